// Unix sockets and fd passing (SCM_RIGHTS): socketpair, sendmsg with fds, recvmsg taking fds.
// Both calls are non-blocking (MSG_DONTWAIT, whatever the fd's own flags): the TS side waits for POLLIN/POLLOUT
// through the core's poller and calls again. Every fd a receive brings in is either tracked (owned by this
// environment, closed at teardown) and returned, or closed here: none can leak.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <vector>
#include <zcopy/args.h>
#include <zcopy/errors.h>

#include "state.h"

namespace zcopy {
namespace {

// The kernel's per-message limit (SCM_MAX_FD in include/net/scm.h; not exported to userspace).
constexpr uint32_t kMaxFdsPerMessage = 253;

// The socket type argument: the three types AF_UNIX offers.
int UnixTypeArg(const Napi::CallbackInfo& info, size_t i) {
  int type = static_cast<int>(U32Arg(info, i, "type"));
  if (type != SOCK_STREAM && type != SOCK_SEQPACKET && type != SOCK_DGRAM)
    throw Napi::RangeError::New(info.Env(), "type must be SOCK_STREAM, SOCK_SEQPACKET or SOCK_DGRAM");
  return type;
}

// A filesystem socket address from the path argument (no abstract names: a path is 1 to 107 bytes, no NUL).
struct sockaddr_un UnixAddressArg(const Napi::CallbackInfo& info, size_t i, std::string* path) {
  *path = StringArg(info, i, "path");
  struct sockaddr_un addr;
  std::memset(&addr, 0, sizeof addr);
  if (path->empty() || path->size() >= sizeof addr.sun_path || path->find('\0') != std::string::npos)
    throw Napi::RangeError::New(info.Env(), "a unix socket path is 1 to 107 bytes without NUL");
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path->data(), path->size());
  return addr;
}

// Closes a socket whose setup failed and throws the KernelError of the failed call (errno saved first).
[[noreturn]] void CloseAndThrow(Napi::Env env, int fd, const char* syscall, const std::string& path) {
  int err = errno;
  ::close(fd);
  throw KernelError(env, err, syscall, nullptr, path.c_str());
}

// socketPair(type) -> [fd, fd]: AF_UNIX, SOCK_CLOEXEC, both ends tracked.
Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int type = UnixTypeArg(info, 0);
  int sv[2] = {-1, -1};
  if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0) ThrowErrno(env, "socketpair");
  auto state = GetState(env);
  state->fds.insert(sv[0]);
  state->fds.insert(sv[1]);
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, sv[0]));
  out.Set(1u, Napi::Number::New(env, sv[1]));
  return out;
}

// connectUnix(path, type) -> fd: a new AF_UNIX socket connected to a listening path.
Napi::Value ConnectUnix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  struct sockaddr_un addr = UnixAddressArg(info, 0, &path);
  int type = UnixTypeArg(info, 1);
  int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  if (fd < 0) ThrowErrno(env, "socket");
  int r;
  do {
    r = ::connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr);
  } while (r < 0 && errno == EINTR);
  if (r < 0) CloseAndThrow(env, fd, "connect", path);
  GetState(env)->fds.insert(fd);
  return Napi::Number::New(env, fd);
}

// listenUnix(path, type, backlog) -> fd: bind + listen on a new AF_UNIX socket.
Napi::Value ListenUnix(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  struct sockaddr_un addr = UnixAddressArg(info, 0, &path);
  int type = UnixTypeArg(info, 1);
  int backlog = static_cast<int>(IntegerArg(info, 2, "backlog", 0, 0x7fffffff));
  // Non-blocking: accept() is called after the poller saw it readable, and must never block the event loop.
  int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) ThrowErrno(env, "socket");
  if (::bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) < 0) CloseAndThrow(env, fd, "bind", path);
  if (::listen(fd, backlog) < 0) CloseAndThrow(env, fd, "listen", path);
  GetState(env)->fds.insert(fd);
  return Napi::Number::New(env, fd);
}

// accept(fd) -> fd, or -1 when no connection is waiting (EAGAIN; the listening socket is non-blocking),
// SOCK_CLOEXEC.
Napi::Value Accept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  int c;
  do {
    c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
  } while (c < 0 && errno == EINTR);
  if (c < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Number::New(env, -1);
    ThrowErrno(env, "accept4");
  }
  GetState(env)->fds.insert(c);
  return Napi::Number::New(env, c);
}

// socketInfo(fd) -> { domain, type } (SO_DOMAIN, SO_TYPE); ENOTSOCK for anything that is not a socket.
Napi::Value SocketInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  int domain = -1, type = -1;
  socklen_t len = sizeof domain;
  if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0) ThrowErrno(env, "getsockopt", "SO_DOMAIN");
  len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) ThrowErrno(env, "getsockopt", "SO_TYPE");
  Napi::Object out = Napi::Object::New(env);
  out.Set("domain", Napi::Number::New(env, domain));
  out.Set("type", Napi::Number::New(env, type));
  return out;
}

// sendFds(fd, data, fds) -> bytes sent, or -1 when the socket is full (EAGAIN). The fds travel with the first
// byte of data; data must not be empty (a stream socket carries no ancillary data without a byte).
Napi::Value SendFds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  if (!info[1].IsTypedArray()) throw Napi::TypeError::New(env, "argument 'data' must be a Uint8Array");
  Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
  if (data.ByteLength() == 0) throw Napi::RangeError::New(env, "argument 'data' must not be empty");
  if (!info[2].IsArray()) throw Napi::TypeError::New(env, "argument 'fds' must be an array of fds");
  Napi::Array list = info[2].As<Napi::Array>();
  if (list.Length() > kMaxFdsPerMessage)
    throw Napi::RangeError::New(env, "at most 253 fds fit in one message (SCM_MAX_FD)");
  std::vector<int> fds;
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value v = list.Get(i);
    if (!v.IsNumber()) throw Napi::TypeError::New(env, "argument 'fds' must hold fd numbers");
    double d = v.As<Napi::Number>().DoubleValue();
    if (d < 0 || d > 0x7fffffff || static_cast<double>(static_cast<int>(d)) != d)
      throw Napi::RangeError::New(env, "argument 'fds' must hold non-negative integer fds");
    fds.push_back(static_cast<int>(d));
  }
  struct iovec iov;
  iov.iov_base = data.Data();
  iov.iov_len = data.ByteLength();
  struct msghdr msg;
  std::memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control;
  if (!fds.empty()) {
    control.assign(CMSG_SPACE(sizeof(int) * fds.size()), 0);
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n;
  do {
    n = ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Number::New(env, -1);
    ThrowErrno(env, "sendmsg");
  }
  return Napi::Number::New(env, static_cast<double>(n));
}

// recvFds(fd, maxBytes, maxFds) -> null when nothing is waiting (EAGAIN), else
// { data: Buffer, fds: number[], ctrunc: bool, trunc: bool, dropped: number }.
// MSG_CMSG_CLOEXEC: a received fd is never inherited by a child by accident. When the kernel cut the message
// (MSG_CTRUNC: more fds than maxFds; MSG_TRUNC: a datagram longer than maxBytes), every fd that did arrive is
// closed here and `fds` is empty (`dropped` counts them): the caller turns the flags into an error.
Napi::Value RecvFds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  uint32_t maxBytes = static_cast<uint32_t>(IntegerArg(info, 1, "maxBytes", 1, 1 << 24));
  uint32_t maxFds = static_cast<uint32_t>(IntegerArg(info, 2, "maxFds", 0, kMaxFdsPerMessage));
  std::vector<char> buf(maxBytes);
  struct iovec iov;
  iov.iov_base = buf.data();
  iov.iov_len = buf.size();
  struct msghdr msg;
  std::memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  // With maxFds 0 there is no control buffer: fds sent anyway make the kernel set MSG_CTRUNC (and drop them).
  std::vector<char> control(CMSG_SPACE(sizeof(int) * maxFds), 0);
  if (maxFds > 0) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
  }
  ssize_t n;
  do {
    n = ::recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
    ThrowErrno(env, "recvmsg");
  }
  std::vector<int> got;
  if (msg.msg_controllen > 0) {
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      const unsigned char* p = CMSG_DATA(c);
      for (size_t i = 0; i < count; i++) {
        int v;
        std::memcpy(&v, p + i * sizeof(int), sizeof v);
        got.push_back(v);
      }
    }
  }
  bool ctrunc = (msg.msg_flags & MSG_CTRUNC) != 0;
  bool trunc = (msg.msg_flags & MSG_TRUNC) != 0;
  Napi::Object out = Napi::Object::New(env);
  out.Set("ctrunc", Napi::Boolean::New(env, ctrunc));
  out.Set("trunc", Napi::Boolean::New(env, trunc));
  if (ctrunc || trunc) {
    for (int f : got) ::close(f);
    out.Set("dropped", Napi::Number::New(env, static_cast<double>(got.size())));
    out.Set("fds", Napi::Array::New(env, 0));
    out.Set("data", Napi::Buffer<char>::Copy(env, buf.data(), 0));
    return out;
  }
  // Tracked before anything else can throw: from here every fd is the environment's to close.
  auto state = GetState(env);
  for (int f : got) state->fds.insert(f);
  Napi::Array fds = Napi::Array::New(env, got.size());
  for (uint32_t i = 0; i < got.size(); i++) fds.Set(i, Napi::Number::New(env, got[i]));
  out.Set("dropped", Napi::Number::New(env, 0));
  out.Set("fds", fds);
  out.Set("data", Napi::Buffer<char>::Copy(env, buf.data(), static_cast<size_t>(n)));
  return out;
}

}  // namespace

void InitSockets(Napi::Env env, Napi::Object exports) {
  exports.Set("socketPair", Napi::Function::New(env, SocketPair, "socketPair"));
  exports.Set("connectUnix", Napi::Function::New(env, ConnectUnix, "connectUnix"));
  exports.Set("listenUnix", Napi::Function::New(env, ListenUnix, "listenUnix"));
  exports.Set("accept", Napi::Function::New(env, Accept, "accept"));
  exports.Set("socketInfo", Napi::Function::New(env, SocketInfo, "socketInfo"));
  exports.Set("sendFds", Napi::Function::New(env, SendFds, "sendFds"));
  exports.Set("recvFds", Napi::Function::New(env, RecvFds, "recvFds"));
  Napi::Object c = exports.Get("constants").As<Napi::Object>();
  c.Set("AF_UNIX", Napi::Number::New(env, AF_UNIX));
  c.Set("SOCK_STREAM", Napi::Number::New(env, SOCK_STREAM));
  c.Set("SOCK_SEQPACKET", Napi::Number::New(env, SOCK_SEQPACKET));
  c.Set("SOCK_DGRAM", Napi::Number::New(env, SOCK_DGRAM));
  c.Set("SCM_MAX_FD", Napi::Number::New(env, kMaxFdsPerMessage));
}

}  // namespace zcopy
