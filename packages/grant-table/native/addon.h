// The parts of the @zcopy/grant-table addon, each registering its functions on the exports.
#pragma once
#include <napi.h>

// The Linux UAPI headers name grant_ref_t and domid_t without defining them: Xen's public headers do.
#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/gntalloc.h>
#include <xen/gntdev.h>

namespace zcopy {

// A grant is one Xen page: 4 KiB on every architecture Xen runs on (the kernel's XEN_PAGE_SHIFT is 12; Xen's
// userspace headers do not export it).
constexpr uint32_t kXenPageSize = 4096;

void InitGntdev(Napi::Env env, Napi::Object exports);
void InitGntalloc(Napi::Env env, Napi::Object exports);
void InitGrantCopy(Napi::Env env, Napi::Object exports);

// A Uint32Array argument (refs, domids): TypeError if it is anything else.
inline Napi::Uint32Array U32ArrayArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    throw Napi::TypeError::New(info.Env(), std::string("argument '") + name + "' must be a Uint32Array");
  return v.As<Napi::Uint32Array>();
}

}  // namespace zcopy
