/* Loads a shared object through musl's dynamic loader with every symbol bound now
 * (RTLD_NOW): a C library import musl lacks fails here, as it would in Alpine's Node. The
 * Node-API and libuv functions the addon imports are Node's, so the test links stubs of
 * them into this program (-rdynamic), generated from the addon's own import list. */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv) {
  if (argc != 2) return 64;
  void *handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  if (dlsym(handle, "napi_register_module_v1") == NULL) {
    fprintf(stderr, "no napi_register_module_v1: %s\n", dlerror());
    return 2;
  }
  puts("loaded");
  return 0;
}
