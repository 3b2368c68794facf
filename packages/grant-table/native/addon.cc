// @zcopy/grant-table native addon: raw gntdev (map foreign grants, grant copy) and gntalloc (share pages) ioctls.
// It holds no state: fds are opened and owned by the TS side through @zcopy/core.
#include "addon.h"

namespace zcopy {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("constants", Napi::Object::New(env));
  InitGntdev(env, exports);
  InitGntalloc(env, exports);
  InitGrantCopy(env, exports);
  return exports;
}

}  // namespace zcopy

static Napi::Object InitGrantTable(Napi::Env env, Napi::Object exports) { return zcopy::Init(env, exports); }
NODE_API_MODULE(zcopy_grant_table, InitGrantTable)
