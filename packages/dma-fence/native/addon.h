// The parts of the @zcopy/dma-fence addon, each registering its functions on the exports.
#pragma once
#include <napi.h>

namespace zcopy {

void InitSyncFile(Napi::Env env, Napi::Object exports);
void InitSwSync(Napi::Env env, Napi::Object exports);
void InitDmaBufFences(Napi::Env env, Napi::Object exports);

}  // namespace zcopy
