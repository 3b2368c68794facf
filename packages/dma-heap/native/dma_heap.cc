// @zcopy/dma-heap native addon: DMA_HEAP_IOCTL_ALLOC on an open /dev/dma_heap/<name>.
// Raw call; sizes, access modes and names are checked in src/.
#include <fcntl.h>
#include <linux/dma-heap.h>

#include <zcopy/args.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>
#include <zcopy/layout.h>

namespace zcopy {
namespace {

ZCOPY_ASSERT_SIZE(dma_heap_allocation_data, 24);
ZCOPY_ASSERT_OFFSET(dma_heap_allocation_data, len, 0);
ZCOPY_ASSERT_OFFSET(dma_heap_allocation_data, fd, 8);
ZCOPY_ASSERT_OFFSET(dma_heap_allocation_data, fd_flags, 12);
ZCOPY_ASSERT_OFFSET(dma_heap_allocation_data, heap_flags, 16);

// alloc(heapFd, len, accessMode) -> dma-buf fd. accessMode is O_RDWR, O_RDONLY or O_WRONLY; O_CLOEXEC is added.
Napi::Value Alloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int heap = FdArg(info, 0, "heapFd");
  auto arg = Zeroed<dma_heap_allocation_data>();
  arg.len = U64Arg(info, 1, "len");
  uint32_t mode = U32Arg(info, 2, "accessMode");
  if ((mode & ~static_cast<uint32_t>(O_ACCMODE)) != 0)
    throw Napi::RangeError::New(env, "accessMode must be an O_ACCMODE value");
  arg.fd_flags = mode | O_CLOEXEC;
  // arg.fd stays 0, not -1: the kernel refuses an allocation whose fd field is not zero on entry.
  // arg.heap_flags stays 0: no heap defines any flag (DMA_HEAP_VALID_HEAP_FLAGS is 0).
  ZCOPY_IOCTL(env, heap, DMA_HEAP_IOCTL_ALLOC, &arg);
  return Napi::Number::New(env, static_cast<double>(arg.fd));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("alloc", Napi::Function::New(env, Alloc, "alloc"));
  return exports;
}

}  // namespace
}  // namespace zcopy

static Napi::Object InitDmaHeap(Napi::Env env, Napi::Object exports) { return zcopy::Init(env, exports); }
NODE_API_MODULE(zcopy_dma_heap, InitDmaHeap)
