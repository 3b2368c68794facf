// @zcopy/xenstore native addon: the wire constants of xs_wire.h, a unix-socket connect for xenstored, and
// non-blocking read/write on either transport (the socket or /dev/xen/xenbus). The protocol itself is TS.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <zcopy/args.h>
#include <zcopy/errors.h>
#include <zcopy/layout.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include <xen/io/xs_wire.h>

ZCOPY_ASSERT_SIZE(struct xsd_sockmsg, 16);
ZCOPY_ASSERT_OFFSET(struct xsd_sockmsg, req_id, 4);
ZCOPY_ASSERT_OFFSET(struct xsd_sockmsg, tx_id, 8);
ZCOPY_ASSERT_OFFSET(struct xsd_sockmsg, len, 12);

namespace zcopy {
namespace {

// connectUnix(path) -> fd (SOCK_NONBLOCK | SOCK_CLOEXEC). The connect of a local stream socket completes at once
// or fails; EINPROGRESS does not happen for AF_UNIX (EAGAIN when the backlog is full is reported as is).
Napi::Value ConnectUnix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "path");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    throw Napi::RangeError::New(env,
                                "a unix socket path must be 1.." + std::to_string(sizeof addr.sun_path - 1) + " bytes");
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) ThrowErrno(env, "socket");
  int r;
  do {
    r = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    int err = errno;
    ::close(fd);
    throw KernelError(env, err, "connect", nullptr, path.c_str());
  }
  return Napi::Number::New(env, fd);
}

uint8_t* ViewBytes(const Napi::CallbackInfo& info, size_t i, size_t* length) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(info.Env(), "argument 'buffer' must be a Uint8Array (or Buffer)");
  Napi::Uint8Array a = info[i].As<Napi::Uint8Array>();
  *length = a.ByteLength();
  return a.Data();
}

// readSome(fd, buffer) -> bytes read, 0 at end of stream, -EAGAIN when nothing is ready.
Napi::Value ReadSome(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  size_t length;
  uint8_t* p = ViewBytes(info, 1, &length);
  ssize_t n;
  do {
    n = ::read(fd, p, length);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN) return Napi::Number::New(info.Env(), -EAGAIN);
    ThrowErrno(info.Env(), "read");
  }
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

// writeSome(fd, buffer) -> bytes written, -EAGAIN when the socket is full. One call per whole message: the
// xenbus device takes a message only once it holds all of it, so one write() keeps writers from interleaving.
Napi::Value WriteSome(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  size_t length;
  uint8_t* p = ViewBytes(info, 1, &length);
  ssize_t n;
  do {
    n = ::write(fd, p, length);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN) return Napi::Number::New(info.Env(), -EAGAIN);
    ThrowErrno(info.Env(), "write");
  }
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("connectUnix", Napi::Function::New(env, ConnectUnix, "connectUnix"));
  exports.Set("readSome", Napi::Function::New(env, ReadSome, "readSome"));
  exports.Set("writeSome", Napi::Function::New(env, WriteSome, "writeSome"));

  Napi::Object t = Napi::Object::New(env);
#define XS_TYPE(name) t.Set(#name, Napi::Number::New(env, name))
  XS_TYPE(XS_CONTROL);
  XS_TYPE(XS_DIRECTORY);
  XS_TYPE(XS_READ);
  XS_TYPE(XS_GET_PERMS);
  XS_TYPE(XS_WATCH);
  XS_TYPE(XS_UNWATCH);
  XS_TYPE(XS_TRANSACTION_START);
  XS_TYPE(XS_TRANSACTION_END);
  XS_TYPE(XS_INTRODUCE);
  XS_TYPE(XS_RELEASE);
  XS_TYPE(XS_GET_DOMAIN_PATH);
  XS_TYPE(XS_WRITE);
  XS_TYPE(XS_MKDIR);
  XS_TYPE(XS_RM);
  XS_TYPE(XS_SET_PERMS);
  XS_TYPE(XS_WATCH_EVENT);
  XS_TYPE(XS_ERROR);
  XS_TYPE(XS_IS_DOMAIN_INTRODUCED);
  XS_TYPE(XS_RESUME);
  XS_TYPE(XS_SET_TARGET);
  XS_TYPE(XS_RESET_WATCHES);
  XS_TYPE(XS_DIRECTORY_PART);
#undef XS_TYPE
  exports.Set("types", t);

  Napi::Object c = Napi::Object::New(env);
  c.Set("HEADER_SIZE", Napi::Number::New(env, sizeof(xsd_sockmsg)));
  c.Set("XENSTORE_PAYLOAD_MAX", Napi::Number::New(env, XENSTORE_PAYLOAD_MAX));
  c.Set("XENSTORE_ABS_PATH_MAX", Napi::Number::New(env, XENSTORE_ABS_PATH_MAX));
  c.Set("XENSTORE_REL_PATH_MAX", Napi::Number::New(env, XENSTORE_REL_PATH_MAX));
  c.Set("XS_WATCH_PATH", Napi::Number::New(env, XS_WATCH_PATH));
  c.Set("XS_WATCH_TOKEN", Napi::Number::New(env, XS_WATCH_TOKEN));
  exports.Set("constants", c);

  // The error names xenstored sends (xsd_errors), with this system's errno for each.
  Napi::Object e = Napi::Object::New(env);
  for (const struct xsd_errors& x : xsd_errors) e.Set(x.errstring, Napi::Number::New(env, x.errnum));
  exports.Set("errors", e);
  return exports;
}

}  // namespace zcopy

static Napi::Object InitXenstore(Napi::Env env, Napi::Object exports) { return zcopy::Init(env, exports); }
NODE_API_MODULE(zcopy_xenstore, InitXenstore)
