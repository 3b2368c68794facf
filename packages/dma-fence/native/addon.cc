// @zcopy/dma-fence native addon: raw sync_file, sw_sync and dma-buf fence ioctls.
// It holds no state: every fd it creates is returned to TS, which adopts it through @zcopy/core.
#include "addon.h"

namespace zcopy {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("constants", Napi::Object::New(env));
  InitSyncFile(env, exports);
  InitSwSync(env, exports);
  InitDmaBufFences(env, exports);
  return exports;
}

}  // namespace zcopy

static Napi::Object InitDmaFence(Napi::Env env, Napi::Object exports) { return zcopy::Init(env, exports); }
NODE_API_MODULE(zcopy_dma_fence, InitDmaFence)
