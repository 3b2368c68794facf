// @zcopy/udmabuf native addon: UDMABUF_CREATE and UDMABUF_CREATE_LIST on an open /dev/udmabuf.
// Raw calls; argument rules and error diagnosis live in src/. Every dma-buf fd is created O_CLOEXEC.
#include <fcntl.h>
#include <linux/udmabuf.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <zcopy/args.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>
#include <zcopy/layout.h>

namespace zcopy {
namespace {

ZCOPY_ASSERT_SIZE(udmabuf_create, 24);
ZCOPY_ASSERT_OFFSET(udmabuf_create, memfd, 0);
ZCOPY_ASSERT_OFFSET(udmabuf_create, flags, 4);
ZCOPY_ASSERT_OFFSET(udmabuf_create, offset, 8);
ZCOPY_ASSERT_OFFSET(udmabuf_create, size, 16);
ZCOPY_ASSERT_SIZE(udmabuf_create_item, 24);
ZCOPY_ASSERT_OFFSET(udmabuf_create_item, memfd, 0);
ZCOPY_ASSERT_OFFSET(udmabuf_create_item, offset, 8);
ZCOPY_ASSERT_OFFSET(udmabuf_create_item, size, 16);
ZCOPY_ASSERT_SIZE(udmabuf_create_list, 8);
ZCOPY_ASSERT_OFFSET(udmabuf_create_list, flags, 0);
ZCOPY_ASSERT_OFFSET(udmabuf_create_list, count, 4);
ZCOPY_ASSERT_OFFSET(udmabuf_create_list, list, 8);

// create(devFd, memfd, offset, size) -> dma-buf fd
Napi::Value Create(const Napi::CallbackInfo& info) {
  int dev = FdArg(info, 0, "devFd");
  auto arg = Zeroed<udmabuf_create>();
  arg.memfd = static_cast<uint32_t>(FdArg(info, 1, "memfd"));
  arg.offset = U64Arg(info, 2, "offset");
  arg.size = U64Arg(info, 3, "size");
  arg.flags = UDMABUF_FLAGS_CLOEXEC;
  int fd = ZCOPY_IOCTL(info.Env(), dev, UDMABUF_CREATE, &arg);
  return Napi::Number::New(info.Env(), fd);
}

// createList(devFd, memfds[], offsets[], sizes[]) -> dma-buf fd
Napi::Value CreateList(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int dev = FdArg(info, 0, "devFd");
  for (size_t i = 1; i <= 3; i++)
    if (!info[i].IsArray()) throw Napi::TypeError::New(env, "memfds, offsets and sizes must be arrays");
  Napi::Array memfds = info[1].As<Napi::Array>(), offsets = info[2].As<Napi::Array>(),
              sizes = info[3].As<Napi::Array>();
  uint32_t count = memfds.Length();
  if (offsets.Length() != count || sizes.Length() != count)
    throw Napi::RangeError::New(env, "memfds, offsets and sizes must have the same length");

  // The header and its flexible array in one zeroed, 8-byte aligned block.
  size_t bytes = sizeof(udmabuf_create_list) + static_cast<size_t>(count) * sizeof(udmabuf_create_item);
  std::vector<uint64_t> storage((bytes + 7) / 8, 0);
  auto* head = reinterpret_cast<udmabuf_create_list*>(storage.data());
  head->flags = UDMABUF_FLAGS_CLOEXEC;
  head->count = count;
  for (uint32_t i = 0; i < count; i++) {
    auto item = Zeroed<udmabuf_create_item>();
    auto elem = [&](Napi::Array a, const char* name) {
      Napi::Value v = a.Get(i);
      if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string(name) + " must hold integers");
      double d = v.As<Napi::Number>().DoubleValue();
      if (!(d >= 0 && d <= 9007199254740991.0) || std::floor(d) != d)
        throw Napi::RangeError::New(env, std::string(name) + " must hold non-negative safe integers");
      return static_cast<uint64_t>(d);
    };
    uint64_t memfd = elem(memfds, "memfds");
    if (memfd > 0x7fffffff) throw Napi::RangeError::New(env, "memfds must hold fds");
    item.memfd = static_cast<uint32_t>(memfd);
    item.offset = elem(offsets, "offsets");
    item.size = elem(sizes, "sizes");
    head->list[i] = item;
  }
  int fd = ZCOPY_IOCTL(env, dev, UDMABUF_CREATE_LIST, head);
  return Napi::Number::New(env, fd);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("create", Napi::Function::New(env, Create, "create"));
  exports.Set("createList", Napi::Function::New(env, CreateList, "createList"));
  Napi::Object c = Napi::Object::New(env);
  c.Set("F_SEAL_FUTURE_WRITE", Napi::Number::New(env, F_SEAL_FUTURE_WRITE));
  exports.Set("constants", c);
  return exports;
}

}  // namespace
}  // namespace zcopy

static Napi::Object InitUdmabuf(Napi::Env env, Napi::Object exports) { return zcopy::Init(env, exports); }
NODE_API_MODULE(zcopy_udmabuf, InitUdmabuf)
