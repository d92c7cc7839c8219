// UDP socket options newer than some libc headers: segmentation offload (GSO) and receive
// coalescing (GRO), from <linux/udp.h>.
#pragma once

#include <netinet/udp.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif
