// Implicit fences of a dma-buf (its dma_resv) as sync_files: export a snapshot, import a fence (Linux >= 6.0).
#include <linux/dma-buf.h>

#include <zcopy/args.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>
#include <zcopy/layout.h>

#include "addon.h"

ZCOPY_ASSERT_SIZE(struct dma_buf_export_sync_file, 8);
ZCOPY_ASSERT_OFFSET(struct dma_buf_export_sync_file, fd, 4);
ZCOPY_ASSERT_SIZE(struct dma_buf_import_sync_file, 8);
ZCOPY_ASSERT_OFFSET(struct dma_buf_import_sync_file, fd, 4);

namespace zcopy {
namespace {

// exportSyncFile(dmabufFd, flags) -> sync_file fd (O_CLOEXEC from the kernel).
Napi::Value ExportSyncFile(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  auto arg = Zeroed<dma_buf_export_sync_file>();
  arg.flags = U32Arg(info, 1, "flags");
  arg.fd = -1;
  ZCOPY_IOCTL(info.Env(), fd, DMA_BUF_IOCTL_EXPORT_SYNC_FILE, &arg);
  return Napi::Number::New(info.Env(), arg.fd);
}

// importSyncFile(dmabufFd, syncFileFd, flags): adds the sync_file's fences to the dma-buf.
Napi::Value ImportSyncFile(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  auto arg = Zeroed<dma_buf_import_sync_file>();
  arg.fd = FdArg(info, 1, "syncFileFd");
  arg.flags = U32Arg(info, 2, "flags");
  ZCOPY_IOCTL(info.Env(), fd, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &arg);
  return info.Env().Undefined();
}

}  // namespace

void InitDmaBufFences(Napi::Env env, Napi::Object exports) {
  exports.Set("exportSyncFile", Napi::Function::New(env, ExportSyncFile, "exportSyncFile"));
  exports.Set("importSyncFile", Napi::Function::New(env, ImportSyncFile, "importSyncFile"));
  Napi::Object c = exports.Get("constants").As<Napi::Object>();
  c.Set("DMA_BUF_SYNC_READ", Napi::Number::New(env, DMA_BUF_SYNC_READ));
  c.Set("DMA_BUF_SYNC_WRITE", Napi::Number::New(env, DMA_BUF_SYNC_WRITE));
}

}  // namespace zcopy
