// TEST ONLY: a dma-buf from a dma-heap, for the implicit-fence VM tests until @zcopy/dma-heap lands.
// Not part of the public TS API (the binding is only reached from test/helpers).
#include <fcntl.h>
#include <linux/dma-heap.h>
#include <unistd.h>

#include <zcopy/args.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>
#include <zcopy/layout.h>

#include "addon.h"

ZCOPY_ASSERT_SIZE(struct dma_heap_allocation_data, 24);
ZCOPY_ASSERT_OFFSET(struct dma_heap_allocation_data, fd, 8);
ZCOPY_ASSERT_OFFSET(struct dma_heap_allocation_data, fd_flags, 12);
ZCOPY_ASSERT_OFFSET(struct dma_heap_allocation_data, heap_flags, 16);

namespace zcopy {
namespace {

// testingHeapAlloc(heapPath, length) -> dma-buf fd (O_RDWR | O_CLOEXEC).
Napi::Value TestingHeapAlloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "heapPath");
  uint64_t len = U64Arg(info, 1, "length");
  int heap = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (heap < 0) ThrowErrno(env, "open", nullptr, path.c_str());
  auto arg = Zeroed<dma_heap_allocation_data>();
  arg.len = len;
  arg.fd_flags = O_RDWR | O_CLOEXEC;
  int r = RetryIoctl(heap, DMA_HEAP_IOCTL_ALLOC, &arg);
  int err = errno;
  ::close(heap);
  if (r < 0) throw KernelError(env, err, "ioctl", "DMA_HEAP_IOCTL_ALLOC");
  return Napi::Number::New(env, static_cast<int>(arg.fd));
}

}  // namespace

void InitTestingDmaHeap(Napi::Env env, Napi::Object exports) {
  exports.Set("testingHeapAlloc", Napi::Function::New(env, TestingHeapAlloc, "testingHeapAlloc"));
}

}  // namespace zcopy
