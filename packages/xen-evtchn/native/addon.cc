// @zcopy/xen-evtchn native addon: raw /dev/xen/evtchn calls (bind, unbind, notify, read pending, unmask).
// It holds no state: the fd is opened and owned by the TS side through @zcopy/core.
#include <unistd.h>

#include <zcopy/args.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>
#include <zcopy/layout.h>

#include <cerrno>
#include <cstdint>
#include <vector>

// evtchn.h names domid_t without defining it, and reads/writes evtchn_port_t: Xen's public headers define them.
#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/evtchn.h>

ZCOPY_ASSERT_SIZE(struct ioctl_evtchn_bind_virq, 4);
ZCOPY_ASSERT_SIZE(struct ioctl_evtchn_bind_interdomain, 8);
ZCOPY_ASSERT_OFFSET(struct ioctl_evtchn_bind_interdomain, remote_port, 4);
ZCOPY_ASSERT_SIZE(struct ioctl_evtchn_bind_unbound_port, 4);
ZCOPY_ASSERT_SIZE(struct ioctl_evtchn_unbind, 4);
ZCOPY_ASSERT_SIZE(struct ioctl_evtchn_notify, 4);
ZCOPY_ASSERT_SIZE(struct ioctl_evtchn_restrict_domid, 2);
static_assert(sizeof(evtchn_port_t) == 4, "the evtchn device reads and writes 32-bit ports");

namespace zcopy {
namespace {

uint32_t DomidArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  uint32_t d = U32Arg(info, i, name);
  if (d >= DOMID_FIRST_RESERVED && d != DOMID_SELF)
    throw Napi::RangeError::New(info.Env(), std::string(name) + " must be a domain id below DOMID_FIRST_RESERVED");
  return d;
}

// The bind ioctls return the local port.
Napi::Value BindVirq(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  auto op = Zeroed<ioctl_evtchn_bind_virq>();
  op.virq = U32Arg(info, 1, "virq");
  return Napi::Number::New(info.Env(), ZCOPY_IOCTL(info.Env(), fd, IOCTL_EVTCHN_BIND_VIRQ, &op));
}

Napi::Value BindInterdomain(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  auto op = Zeroed<ioctl_evtchn_bind_interdomain>();
  op.remote_domain = DomidArg(info, 1, "remoteDomid");
  op.remote_port = U32Arg(info, 2, "remotePort");
  return Napi::Number::New(info.Env(), ZCOPY_IOCTL(info.Env(), fd, IOCTL_EVTCHN_BIND_INTERDOMAIN, &op));
}

Napi::Value BindUnboundPort(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  auto op = Zeroed<ioctl_evtchn_bind_unbound_port>();
  op.remote_domain = DomidArg(info, 1, "remoteDomid");
  return Napi::Number::New(info.Env(), ZCOPY_IOCTL(info.Env(), fd, IOCTL_EVTCHN_BIND_UNBOUND_PORT, &op));
}

Napi::Value Unbind(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  auto op = Zeroed<ioctl_evtchn_unbind>();
  op.port = U32Arg(info, 1, "port");
  ZCOPY_IOCTL(info.Env(), fd, IOCTL_EVTCHN_UNBIND, &op);
  return info.Env().Undefined();
}

Napi::Value Notify(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  auto op = Zeroed<ioctl_evtchn_notify>();
  op.port = U32Arg(info, 1, "port");
  ZCOPY_IOCTL(info.Env(), fd, IOCTL_EVTCHN_NOTIFY, &op);
  return info.Env().Undefined();
}

Napi::Value Reset(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  int r = RetryIoctl<void>(fd, IOCTL_EVTCHN_RESET, nullptr);
  if (r < 0) ThrowErrno(info.Env(), "ioctl", "IOCTL_EVTCHN_RESET");
  return info.Env().Undefined();
}

Napi::Value RestrictDomid(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  auto op = Zeroed<ioctl_evtchn_restrict_domid>();
  op.domid = static_cast<domid_t>(DomidArg(info, 1, "domid"));
  ZCOPY_IOCTL(info.Env(), fd, IOCTL_EVTCHN_RESTRICT_DOMID, &op);
  return info.Env().Undefined();
}

// readPending(fd) -> Uint32Array of ports that fired (empty when none: the fd is non-blocking). Each port read
// stays masked until unmask() writes it back. EFBIG means the kernel's ring overflowed.
Napi::Value ReadPending(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  std::vector<evtchn_port_t> ports;
  evtchn_port_t buf[1024];  // one page: the most the device returns per read
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      ThrowErrno(env, "read");
    }
    ports.insert(ports.end(), buf, buf + n / sizeof(evtchn_port_t));
    if (static_cast<size_t>(n) < sizeof buf) break;
  }
  Napi::Uint32Array out = Napi::Uint32Array::New(env, ports.size());
  for (size_t i = 0; i < ports.size(); i++) out[i] = ports[i];
  return out;
}

// unmask(fd, ports: Uint32Array): re-enables delivery of each port (ports not bound here are ignored).
Napi::Value Unmask(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    throw Napi::TypeError::New(env, "argument 'ports' must be a Uint32Array");
  Napi::Uint32Array ports = info[1].As<Napi::Uint32Array>();
  const uint8_t* p = reinterpret_cast<const uint8_t*>(ports.Data());
  size_t left = ports.ByteLength();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowErrno(env, "write");
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return env.Undefined();
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("bindVirq", Napi::Function::New(env, BindVirq, "bindVirq"));
  exports.Set("bindInterdomain", Napi::Function::New(env, BindInterdomain, "bindInterdomain"));
  exports.Set("bindUnboundPort", Napi::Function::New(env, BindUnboundPort, "bindUnboundPort"));
  exports.Set("unbind", Napi::Function::New(env, Unbind, "unbind"));
  exports.Set("notify", Napi::Function::New(env, Notify, "notify"));
  exports.Set("reset", Napi::Function::New(env, Reset, "reset"));
  exports.Set("restrictDomid", Napi::Function::New(env, RestrictDomid, "restrictDomid"));
  exports.Set("readPending", Napi::Function::New(env, ReadPending, "readPending"));
  exports.Set("unmask", Napi::Function::New(env, Unmask, "unmask"));
  Napi::Object c = Napi::Object::New(env);
  c.Set("DOMID_SELF", Napi::Number::New(env, DOMID_SELF));
  c.Set("DOMID_FIRST_RESERVED", Napi::Number::New(env, DOMID_FIRST_RESERVED));
  exports.Set("constants", c);
  return exports;
}

}  // namespace zcopy

static Napi::Object InitXenEvtchn(Napi::Env env, Napi::Object exports) { return zcopy::Init(env, exports); }
NODE_API_MODULE(zcopy_xen_evtchn, InitXenEvtchn)
