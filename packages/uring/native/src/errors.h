// Errors that look like Node's own: message "<syscall> <CODE>", and `code`, `errno`
// (negative, as libuv reports it) and `syscall` properties.
#pragma once

#include <napi.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace flux {

// The errno's symbolic name, as Node's errors carry it. A table, not strerrorname_np: that is
// a GLIBC_2.32 symbol (absent on musl and older glibc), and the addon keeps to glibc 2.28.
struct ErrnoEntry {
  int value;
  const char* name;
};

inline constexpr ErrnoEntry ERRNO_NAMES[] = {
    {EPERM, "EPERM"},
    {ENOENT, "ENOENT"},
    {ESRCH, "ESRCH"},
    {EINTR, "EINTR"},
    {EIO, "EIO"},
    {ENXIO, "ENXIO"},
    {E2BIG, "E2BIG"},
    {EBADF, "EBADF"},
    {EAGAIN, "EAGAIN"},
    {ENOMEM, "ENOMEM"},
    {EACCES, "EACCES"},
    {EFAULT, "EFAULT"},
    {EBUSY, "EBUSY"},
    {EEXIST, "EEXIST"},
    {ENODEV, "ENODEV"},
    {ENOTDIR, "ENOTDIR"},
    {EISDIR, "EISDIR"},
    {EINVAL, "EINVAL"},
    {ENFILE, "ENFILE"},
    {EMFILE, "EMFILE"},
    {EFBIG, "EFBIG"},
    {ENOSPC, "ENOSPC"},
    {ESPIPE, "ESPIPE"},
    {EROFS, "EROFS"},
    {EPIPE, "EPIPE"},
    {ERANGE, "ERANGE"},
    {ENAMETOOLONG, "ENAMETOOLONG"},
    {ENOSYS, "ENOSYS"},
    {ENOTSOCK, "ENOTSOCK"},
    {EDESTADDRREQ, "EDESTADDRREQ"},
    {EMSGSIZE, "EMSGSIZE"},
    {EPROTOTYPE, "EPROTOTYPE"},
    {ENOPROTOOPT, "ENOPROTOOPT"},
    {EPROTONOSUPPORT, "EPROTONOSUPPORT"},
    {EOPNOTSUPP, "EOPNOTSUPP"},
    {EAFNOSUPPORT, "EAFNOSUPPORT"},
    {EADDRINUSE, "EADDRINUSE"},
    {EADDRNOTAVAIL, "EADDRNOTAVAIL"},
    {ENETDOWN, "ENETDOWN"},
    {ENETUNREACH, "ENETUNREACH"},
    {ECONNABORTED, "ECONNABORTED"},
    {ECONNRESET, "ECONNRESET"},
    {ENOBUFS, "ENOBUFS"},
    {EISCONN, "EISCONN"},
    {ENOTCONN, "ENOTCONN"},
    {ETIMEDOUT, "ETIMEDOUT"},
    {ECONNREFUSED, "ECONNREFUSED"},
    {EHOSTUNREACH, "EHOSTUNREACH"},
    {EALREADY, "EALREADY"},
    {EINPROGRESS, "EINPROGRESS"},
    {ECANCELED, "ECANCELED"},
    {EOVERFLOW, "EOVERFLOW"},
};

inline const char* ErrnoName(int error) {
  for (const ErrnoEntry& entry : ERRNO_NAMES) {
    if (entry.value == error) return entry.name;
  }
  return "EUNKNOWN";
}

inline Napi::Error SystemError(Napi::Env env, int error, const char* syscall, const std::string& detail = "") {
  std::string message = std::string(syscall) + " " + ErrnoName(error) + " (" + std::strerror(error) + ")";
  if (!detail.empty()) message += " " + detail;
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, ErrnoName(error)));
  e.Set("errno", Napi::Number::New(env, -error));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

// Flux's own errors, shaped like @flux/ring's errors.ts: a `code` and the brand registered as
// Symbol.for("@flux/error"), so `error instanceof FluxError` holds in JavaScript. Argument
// errors stay TypeError / RangeError; misuse of a socket's life cycle is ERR_FLUX_INVALID_STATE.
template <typename E>
inline E Branded(Napi::Env env, E error, const char* name, const char* code) {
  error.Set("name", Napi::String::New(env, name));
  error.Set("code", Napi::String::New(env, code));
  napi_property_descriptor brand = {nullptr, Napi::Symbol::For(env, "@flux/error"), nullptr,      nullptr,
                                    nullptr, Napi::Boolean::New(env, true),         napi_default, nullptr};
  NAPI_THROW_IF_FAILED(env, napi_define_properties(env, error.Value(), 1, &brand), error);
  return error;
}

inline Napi::TypeError FluxTypeError(Napi::Env env, const std::string& message) {
  return Branded(env, Napi::TypeError::New(env, message), "FluxTypeError", "ERR_FLUX_INVALID_TYPE");
}

inline Napi::RangeError FluxRangeError(Napi::Env env, const std::string& message) {
  return Branded(env, Napi::RangeError::New(env, message), "FluxRangeError", "ERR_FLUX_OUT_OF_RANGE");
}

inline Napi::Error FluxStateError(Napi::Env env, const std::string& message) {
  return Branded(env, Napi::Error::New(env, message), "FluxError", "ERR_FLUX_INVALID_STATE");
}

inline Napi::Error FluxUnsupportedError(Napi::Env env, const std::string& message) {
  return Branded(env, Napi::Error::New(env, message), "FluxError", "ERR_FLUX_UNSUPPORTED");
}

// A TypedArray or DataView's bytes (any ArrayBuffer or SharedArrayBuffer behind it), or a
// TypeError naming `what`.
struct Bytes {
  uint8_t* data;
  size_t length;
};

inline Bytes BytesOf(Napi::Env env, Napi::Value value, const char* what) {
  if (value.IsTypedArray()) {
    Napi::TypedArray array = value.As<Napi::TypedArray>();
    size_t elementBytes = 1;
    switch (array.TypedArrayType()) {
      case napi_int16_array:
      case napi_uint16_array:
        elementBytes = 2;
        break;
      case napi_int32_array:
      case napi_uint32_array:
      case napi_float32_array:
        elementBytes = 4;
        break;
      case napi_float64_array:
      case napi_bigint64_array:
      case napi_biguint64_array:
        elementBytes = 8;
        break;
      default:
        break;
    }
    void* data = nullptr;
    size_t length = 0;
    napi_value arrayBuffer;
    size_t byteOffset = 0;
    napi_typedarray_type type;
    NAPI_THROW_IF_FAILED(env, napi_get_typedarray_info(env, array, &type, &length, &data, &arrayBuffer, &byteOffset), Bytes{});
    return Bytes{static_cast<uint8_t*>(data), length * elementBytes};
  }
  if (value.IsDataView()) {
    Napi::DataView view = value.As<Napi::DataView>();
    return Bytes{static_cast<uint8_t*>(view.Data()), view.ByteLength()};
  }
  if (value.IsArrayBuffer()) {
    Napi::ArrayBuffer buffer = value.As<Napi::ArrayBuffer>();
    return Bytes{static_cast<uint8_t*>(buffer.Data()), buffer.ByteLength()};
  }
  throw FluxTypeError(
      env, std::string(what) + " must be a TypedArray, DataView or ArrayBuffer (wrap a SharedArrayBuffer in a Uint8Array)");
}

// A result of io_uring_enter (Uring::Submit, RunDeferred) on a JavaScript call: EAGAIN and
// EBUSY (the kernel is short of memory or its CQ is backed up: the SQEs stay queued and the
// next send() or poll() submits them) and EINTR (a signal ended a wait) are not errors.
inline void ThrowIfEnterFailed(Napi::Env env, int result) {
  if (result < 0 && result != -EAGAIN && result != -EBUSY && result != -EINTR) {
    throw SystemError(env, -result, "io_uring_enter");
  }
}

// A number argument that must be an integer from min to max, or a FluxTypeError /
// FluxRangeError naming it.
inline uint32_t RequireUint32(Napi::Env env, const Napi::Value& value, const char* name, uint32_t min, uint32_t max) {
  if (!value.IsNumber()) throw FluxTypeError(env, std::string(name) + " must be a number");
  double d = value.As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max) || d != static_cast<double>(static_cast<uint64_t>(d))) {
    throw FluxRangeError(env, std::string(name) + " must be an integer from " + std::to_string(min) + " to " +
                                  std::to_string(max) + ", got " + value.ToString().Utf8Value());
  }
  return static_cast<uint32_t>(d);
}

}  // namespace flux
