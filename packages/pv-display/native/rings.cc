// @zcopy/pv-display native addon: the displif shared pages (xen/io/displif.h, xen/io/ring.h) read and written
// with the header's own structs and the ring macros' ordering rules. It holds no state: every call gets the
// mapped page (a Buffer of at least one Xen page) and the caller's private indexes, and returns the new ones.
// Every value read from a page the other domain can write is read once (copied) and then checked: the peer
// may change the page under us at any time.
//
// Backend side: reqConsume, respond, finalCheckRequests, evtPush, dirRead, dirWrite.
// Frontend side (for tests and a hostile frontend of our own): frontInit, frontEventsInit, frontPush, frontSetReqProd,
// frontResponses, frontEvents, dirInit.
#include <zcopy/args.h>
#include <zcopy/layout.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/displif.h>
#include <xen/errno.h>

// The wire layout the Linux frontend (drivers/gpu/drm/xen) and this backend must share.
ZCOPY_ASSERT_SIZE(struct xendispl_req, 64);
ZCOPY_ASSERT_SIZE(struct xendispl_resp, 64);
ZCOPY_ASSERT_SIZE(struct xendispl_evt, 64);
ZCOPY_ASSERT_SIZE(struct xendispl_event_page, 64);
ZCOPY_ASSERT_OFFSET(struct xendispl_req, operation, 2);
ZCOPY_ASSERT_OFFSET(struct xendispl_req, op, 8);
ZCOPY_ASSERT_OFFSET(struct xendispl_resp, status, 4);
ZCOPY_ASSERT_OFFSET(struct xendispl_resp, op, 8);
ZCOPY_ASSERT_OFFSET(struct xendispl_evt, op, 8);
// The header's diagrams number octets by their end; the structs are what both sides compile. SET_CONFIG's bpp is
// at offset 32 of the request (the diagram suggests 36): the struct decides.
ZCOPY_ASSERT_OFFSET(struct xendispl_req, op.set_config.bpp, 32);
ZCOPY_ASSERT_OFFSET(struct xendispl_req, op.dbuf_create.buffer_sz, 28);
ZCOPY_ASSERT_OFFSET(struct xendispl_req, op.dbuf_create.flags, 32);
ZCOPY_ASSERT_OFFSET(struct xendispl_req, op.dbuf_create.gref_directory, 36);
ZCOPY_ASSERT_OFFSET(struct xendispl_req, op.dbuf_create.data_ofs, 40);
ZCOPY_ASSERT_OFFSET(struct xendispl_req, op.fb_attach.pixel_format, 32);
ZCOPY_ASSERT_OFFSET(struct xendispl_page_directory, gref, 4);
static_assert(XENDISPL_IN_RING_OFFS == 64, "event page header");
static_assert(XENDISPL_IN_RING_LEN == 63, "63 events of 64 bytes per event page");
constexpr unsigned kXenPageSize = 1u << XEN_PAGE_SHIFT;
static_assert(kXenPageSize == XENDISPL_EVENT_PAGE_SIZE, "Xen pages are 4 KiB, as the event page");
static_assert(offsetof(struct xen_displif_sring, ring) == 64, "shared ring header");
static_assert(__CONST_RING_SIZE(xen_displif, kXenPageSize) == 32, "32 requests per ring page");
static_assert(sizeof(grant_ref_t) == 4, "grant refs are 32-bit");

namespace zcopy {
namespace {

constexpr uint32_t kRingSize = __CONST_RING_SIZE(xen_displif, kXenPageSize);
constexpr uint32_t kGrefsPerDirPage =
    (kXenPageSize - offsetof(struct xendispl_page_directory, gref)) / sizeof(grant_ref_t);

// The ring macros' barriers (xen_mb/xen_rmb/xen_wmb) for a peer on another CPU.
inline void Mb() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void Rmb() { std::atomic_thread_fence(std::memory_order_acquire); }
inline void Wmb() { std::atomic_thread_fence(std::memory_order_release); }

// Shared fields are read and written exactly once (volatile): the peer may change them at any time.
template <typename T>
inline T ReadOnce(const T* p) {
  return *reinterpret_cast<const volatile T*>(p);
}
template <typename T>
inline void WriteOnce(T* p, T v) {
  *reinterpret_cast<volatile T*>(p) = v;
}

uint8_t* PageArg(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  if (!info[i].IsTypedArray() && !info[i].IsBuffer())
    throw Napi::TypeError::New(env, ArgName("page") + " must be a Buffer or Uint8Array");
  Napi::TypedArray ta = info[i].As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, ArgName("page") + " must be a Buffer or Uint8Array");
  if (ta.ByteLength() < kXenPageSize)
    throw Napi::RangeError::New(env, ArgName("page") + " must hold at least one 4096-byte page");
  uint8_t* p = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  if (reinterpret_cast<uintptr_t>(p) % 8 != 0)
    throw Napi::RangeError::New(env, ArgName("page") + " must be 8-byte aligned (a mapped page is)");
  return p;
}

Napi::BigInt Cookie(Napi::Env env, uint64_t v) { return Napi::BigInt::New(env, v); }

uint64_t CookieArg(const Napi::CallbackInfo& info, Napi::Value v, const char* name) {
  if (!v.IsBigInt()) throw Napi::TypeError::New(info.Env(), ArgName(name) + " must be a bigint");
  bool lossless = false;
  uint64_t c = v.As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) throw Napi::RangeError::New(info.Env(), ArgName(name) + " must fit in 64 bits");
  return c;
}

uint32_t U32Field(const Napi::CallbackInfo& info, Napi::Object o, const char* name, uint32_t dflt = 0) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined()) return dflt;
  if (!v.IsNumber()) throw Napi::TypeError::New(info.Env(), std::string("field '") + name + "' must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || static_cast<double>(static_cast<uint32_t>(d)) != d)
    throw Napi::RangeError::New(info.Env(), std::string("field '") + name + "' must be a 32-bit unsigned integer");
  return static_cast<uint32_t>(d);
}

uint64_t CookieField(const Napi::CallbackInfo& info, Napi::Object o, const char* name) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined()) return 0;
  return CookieArg(info, v, name);
}

// The request fields of each operation as JS names them, once for both directions: DecodeRequest (the backend
// reading a slot) and FrontPush (a test frontend filling one). A field is a 32-bit number or a 64-bit cookie
// (a bigint in JS); the other member pointer is null. Reserved bytes and unknown operations have no fields.
template <typename Op>
struct ReqField {
  constexpr ReqField(const char* n, uint32_t Op::* m) : name(n), u32(m), cookie(nullptr) {}
  constexpr ReqField(const char* n, uint64_t Op::* m) : name(n), u32(nullptr), cookie(m) {}
  const char* name;
  uint32_t Op::* u32;
  uint64_t Op::* cookie;
};

using DbufCreate = xendispl_dbuf_create_req;
using DbufDestroy = xendispl_dbuf_destroy_req;
using FbAttach = xendispl_fb_attach_req;
using FbDetach = xendispl_fb_detach_req;
using SetConfig = xendispl_set_config_req;
using PgFlip = xendispl_page_flip_req;
using GetEdid = xendispl_get_edid_req;

const ReqField<DbufCreate> kDbufCreateFields[] = {{"dbufCookie", &DbufCreate::dbuf_cookie},
                                                  {"width", &DbufCreate::width},
                                                  {"height", &DbufCreate::height},
                                                  {"bpp", &DbufCreate::bpp},
                                                  {"bufferSize", &DbufCreate::buffer_sz},
                                                  {"flags", &DbufCreate::flags},
                                                  {"grefDirectory", &DbufCreate::gref_directory},
                                                  {"dataOffset", &DbufCreate::data_ofs}};
const ReqField<DbufDestroy> kDbufDestroyFields[] = {{"dbufCookie", &DbufDestroy::dbuf_cookie}};
const ReqField<FbAttach> kFbAttachFields[] = {{"dbufCookie", &FbAttach::dbuf_cookie},
                                              {"fbCookie", &FbAttach::fb_cookie},
                                              {"width", &FbAttach::width},
                                              {"height", &FbAttach::height},
                                              {"pixelFormat", &FbAttach::pixel_format}};
const ReqField<FbDetach> kFbDetachFields[] = {{"fbCookie", &FbDetach::fb_cookie}};
const ReqField<SetConfig> kSetConfigFields[] = {
    {"fbCookie", &SetConfig::fb_cookie}, {"x", &SetConfig::x},           {"y", &SetConfig::y},
    {"width", &SetConfig::width},        {"height", &SetConfig::height}, {"bpp", &SetConfig::bpp}};
const ReqField<PgFlip> kPgFlipFields[] = {{"fbCookie", &PgFlip::fb_cookie}};
const ReqField<GetEdid> kGetEdidFields[] = {{"bufferSize", &GetEdid::buffer_sz},
                                            {"grefDirectory", &GetEdid::gref_directory}};

// Calls fn(member, fields) with the union member of `operation` and its fields; unknown operations: nothing.
// `Union` is decltype(xendispl_req::op), const when decoding.
template <typename Union, typename Fn>
void WithOpFields(uint8_t operation, Union& op, Fn&& fn) {
  switch (operation) {
    case XENDISPL_OP_DBUF_CREATE:
      fn(op.dbuf_create, kDbufCreateFields);
      break;
    case XENDISPL_OP_DBUF_DESTROY:
      fn(op.dbuf_destroy, kDbufDestroyFields);
      break;
    case XENDISPL_OP_FB_ATTACH:
      fn(op.fb_attach, kFbAttachFields);
      break;
    case XENDISPL_OP_FB_DETACH:
      fn(op.fb_detach, kFbDetachFields);
      break;
    case XENDISPL_OP_SET_CONFIG:
      fn(op.set_config, kSetConfigFields);
      break;
    case XENDISPL_OP_PG_FLIP:
      fn(op.pg_flip, kPgFlipFields);
      break;
    case XENDISPL_OP_GET_EDID:
      fn(op.get_edid, kGetEdidFields);
      break;
    default:
      break;
  }
}

// One request, decoded from a private copy of its slot. Fields of unknown operations are not decoded.
Napi::Object DecodeRequest(Napi::Env env, const xendispl_req& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", Napi::Number::New(env, r.id));
  o.Set("operation", Napi::Number::New(env, r.operation));
  WithOpFields(r.operation, r.op, [&](const auto& member, const auto& fields) {
    for (const auto& f : fields) {
      if (f.u32)
        o.Set(f.name, Napi::Number::New(env, member.*f.u32));
      else
        o.Set(f.name, Cookie(env, member.*f.cookie));
    }
  });
  return o;
}

// reqConsume(page, reqCons, max) -> { reqProd, reqCons, requests, overrun }
// RING_HAS_UNCONSUMED_REQUESTS with the check that the peer's req_prod is not more than a ring ahead of what we
// consumed (RING_REQUEST_PROD_OVERFLOW): a frontend whose index runs ahead gets `overrun` and nothing consumed.
Napi::Value ReqConsume(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* sring = reinterpret_cast<xen_displif_sring*>(PageArg(info, 0));
  RING_IDX cons = U32Arg(info, 1, "reqCons");
  uint32_t max = U32Arg(info, 2, "max");
  RING_IDX prod = ReadOnce(&sring->req_prod);
  Rmb();  // the requests up to prod are visible after this
  Napi::Object out = Napi::Object::New(env);
  out.Set("reqProd", Napi::Number::New(env, prod));
  Napi::Array reqs = Napi::Array::New(env);
  if (static_cast<RING_IDX>(prod - cons) > kRingSize) {
    out.Set("overrun", Napi::Boolean::New(env, true));
    out.Set("reqCons", Napi::Number::New(env, cons));
    out.Set("requests", reqs);
    return out;
  }
  uint32_t n = 0;
  while (cons != prod && n < max) {
    xendispl_req copy;
    std::memcpy(&copy, &sring->ring[cons & (kRingSize - 1)].req, sizeof copy);
    reqs.Set(n++, DecodeRequest(env, copy));
    cons++;
  }
  out.Set("overrun", Napi::Boolean::New(env, false));
  out.Set("reqCons", Napi::Number::New(env, cons));
  out.Set("requests", reqs);
  return out;
}

// finalCheckRequests(page, reqCons) -> more: RING_FINAL_CHECK_FOR_REQUESTS (set req_event, full barrier, look
// again), so the frontend notifies for its next request.
Napi::Value FinalCheckRequests(const Napi::CallbackInfo& info) {
  auto* sring = reinterpret_cast<xen_displif_sring*>(PageArg(info, 0));
  RING_IDX cons = U32Arg(info, 1, "reqCons");
  if (ReadOnce(&sring->req_prod) != cons) return Napi::Boolean::New(info.Env(), true);
  WriteOnce(&sring->req_event, static_cast<RING_IDX>(cons + 1));
  Mb();
  return Napi::Boolean::New(info.Env(), ReadOnce(&sring->req_prod) != cons);
}

// respond(page, rspProdPvt, id, operation, status, edidSize) -> notify
// Writes one response at rsp_prod_pvt and pushes it (RING_PUSH_RESPONSES_AND_CHECK_NOTIFY). The caller keeps
// rsp_prod_pvt + 1 and never responds more than it consumed.
Napi::Value Respond(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* sring = reinterpret_cast<xen_displif_sring*>(PageArg(info, 0));
  RING_IDX pvt = U32Arg(info, 1, "rspProdPvt");
  uint32_t id = U32Arg(info, 2, "id");
  uint32_t operation = U32Arg(info, 3, "operation");
  int64_t status = IntegerArg(info, 4, "status", INT32_MIN, INT32_MAX);
  uint32_t edid = U32Arg(info, 5, "edidSize");
  if (id > 0xffff) throw Napi::RangeError::New(env, "id is 16-bit");
  if (operation > 0xff) throw Napi::RangeError::New(env, "operation is 8-bit");
  xendispl_resp r;
  std::memset(&r, 0, sizeof r);
  r.id = static_cast<uint16_t>(id);
  r.operation = static_cast<uint8_t>(operation);
  r.status = static_cast<int32_t>(status);
  if (operation == XENDISPL_OP_GET_EDID) r.op.get_edid.edid_sz = edid;
  std::memcpy(&sring->ring[pvt & (kRingSize - 1)].rsp, &r, sizeof r);
  RING_IDX old = ReadOnce(&sring->rsp_prod);
  RING_IDX next = pvt + 1;
  Wmb();  // the response before the index
  WriteOnce(&sring->rsp_prod, next);
  Mb();  // the index before reading rsp_event
  RING_IDX ev = ReadOnce(&sring->rsp_event);
  bool notify = static_cast<RING_IDX>(next - ev) < static_cast<RING_IDX>(next - old);
  return Napi::Boolean::New(env, notify);
}

// evtPush(page, inProd, id, type, fbCookie) -> 'ok' | 'full'
// The event page: the backend produces at in_prod (its own copy is the truth; the page's is only published),
// the frontend consumes at in_cons. A full page (or an in_cons the frontend moved past in_prod) takes nothing.
Napi::Value EvtPush(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t* page = PageArg(info, 0);
  auto* hdr = reinterpret_cast<xendispl_event_page*>(page);
  uint32_t prod = U32Arg(info, 1, "inProd");
  uint32_t id = U32Arg(info, 2, "id");
  uint32_t type = U32Arg(info, 3, "type");
  uint64_t cookie = CookieArg(info, info[4], "fbCookie");
  if (id > 0xffff || type > 0xff) throw Napi::RangeError::New(env, "id is 16-bit and type 8-bit");
  uint32_t cons = ReadOnce(&hdr->in_cons);
  Mb();  // the frontend's in_cons before we overwrite a slot it may still read
  if (static_cast<uint32_t>(prod - cons) >= XENDISPL_IN_RING_LEN) return Napi::String::New(env, "full");
  xendispl_evt e;
  std::memset(&e, 0, sizeof e);
  e.id = static_cast<uint16_t>(id);
  e.type = static_cast<uint8_t>(type);
  e.op.pg_flip.fb_cookie = cookie;
  std::memcpy(&XENDISPL_IN_RING_REF(page, prod), &e, sizeof e);
  Wmb();  // the event before the index
  WriteOnce(&hdr->in_prod, static_cast<uint32_t>(prod + 1));
  return Napi::String::New(env, "ok");
}

// dirRead(page) -> { next, refs: Uint32Array(kGrefsPerDirPage) }, a copy.
Napi::Value DirRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* dir = reinterpret_cast<xendispl_page_directory*>(PageArg(info, 0));
  Napi::Object out = Napi::Object::New(env);
  out.Set("next", Napi::Number::New(env, ReadOnce(&dir->gref_dir_next_page)));
  Napi::Uint32Array refs = Napi::Uint32Array::New(env, kGrefsPerDirPage);
  std::memcpy(refs.Data(), dir->gref, kGrefsPerDirPage * sizeof(grant_ref_t));
  out.Set("refs", refs);
  return out;
}

Napi::Uint32Array RefsArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    throw Napi::TypeError::New(info.Env(), ArgName("refs") + " must be a Uint32Array");
  Napi::Uint32Array refs = info[i].As<Napi::Uint32Array>();
  if (refs.ElementLength() > kGrefsPerDirPage)
    throw Napi::RangeError::New(info.Env(), "a directory page holds at most 1023 refs");
  return refs;
}

// dirWrite(page, refs): fills gref[] (backend allocation: the frontend set the chain, the backend the refs).
Napi::Value DirWrite(const Napi::CallbackInfo& info) {
  auto* dir = reinterpret_cast<xendispl_page_directory*>(PageArg(info, 0));
  Napi::Uint32Array refs = RefsArg(info, 1);
  std::memcpy(dir->gref, refs.Data(), refs.ElementLength() * sizeof(grant_ref_t));
  Wmb();
  return info.Env().Undefined();
}

// dirInit(page, next, refs): a frontend's directory page (chain pointer and refs).
Napi::Value DirInit(const Napi::CallbackInfo& info) {
  auto* dir = reinterpret_cast<xendispl_page_directory*>(PageArg(info, 0));
  uint32_t next = U32Arg(info, 1, "next");
  Napi::Uint32Array refs = RefsArg(info, 2);
  std::memset(dir, 0, kXenPageSize);
  dir->gref_dir_next_page = next;
  std::memcpy(dir->gref, refs.Data(), refs.ElementLength() * sizeof(grant_ref_t));
  Wmb();
  return info.Env().Undefined();
}

// ---- frontend side ----

// frontInit(page): SHARED_RING_INIT on the request ring. Not for the event page: SHARED_RING_INIT sets
// req_event = 1, and req_event is where the event page keeps in_prod, so a frontend would see one event (an
// all-zero slot) that the backend never sent (seen in arm64 runs of the hostile test, whose frontend read the
// page before the flip's event came).
Napi::Value FrontInit(const Napi::CallbackInfo& info) {
  uint8_t* page = PageArg(info, 0);
  std::memset(page, 0, kXenPageSize);
  auto* sring = reinterpret_cast<xen_displif_sring*>(page);
  SHARED_RING_INIT(sring);
  Wmb();
  return info.Env().Undefined();
}

// frontEventsInit(page): the event page as Linux's xen-drm-front starts it: all zero (in_cons = in_prod = 0).
Napi::Value FrontEventsInit(const Napi::CallbackInfo& info) {
  std::memset(PageArg(info, 0), 0, kXenPageSize);
  Wmb();
  return info.Env().Undefined();
}

// frontPush(page, reqProdPvt, request) -> { reqProdPvt, notify }
// `request` is { id, operation, ...fields } encoded into the header's struct, or a 64-byte Uint8Array written as
// is (malformed requests for tests). RING_PUSH_REQUESTS_AND_CHECK_NOTIFY.
Napi::Value FrontPush(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* sring = reinterpret_cast<xen_displif_sring*>(PageArg(info, 0));
  RING_IDX pvt = U32Arg(info, 1, "reqProdPvt");
  xendispl_req r;
  std::memset(&r, 0, sizeof r);
  if (info[2].IsTypedArray()) {
    Napi::TypedArray raw = info[2].As<Napi::TypedArray>();
    if (raw.TypedArrayType() != napi_uint8_array || raw.ByteLength() != sizeof r)
      throw Napi::RangeError::New(env, "a raw request is a 64-byte Uint8Array");
    std::memcpy(&r, static_cast<uint8_t*>(raw.ArrayBuffer().Data()) + raw.ByteOffset(), sizeof r);
  } else if (info[2].IsObject()) {
    Napi::Object o = info[2].As<Napi::Object>();
    uint32_t id = U32Field(info, o, "id");
    uint32_t op = U32Field(info, o, "operation");
    if (id > 0xffff || op > 0xff) throw Napi::RangeError::New(env, "id is 16-bit and operation 8-bit");
    r.id = static_cast<uint16_t>(id);
    r.operation = static_cast<uint8_t>(op);
    WithOpFields(r.operation, r.op, [&](auto& member, const auto& fields) {
      for (const auto& f : fields) {
        if (f.u32)
          member.*f.u32 = U32Field(info, o, f.name);
        else
          member.*f.cookie = CookieField(info, o, f.name);
      }
    });
  } else {
    throw Napi::TypeError::New(env, ArgName("request") + " must be an object or a 64-byte Uint8Array");
  }
  std::memcpy(&sring->ring[pvt & (kRingSize - 1)].req, &r, sizeof r);
  RING_IDX old = ReadOnce(&sring->req_prod);
  RING_IDX next = pvt + 1;
  Wmb();
  WriteOnce(&sring->req_prod, next);
  Mb();
  RING_IDX ev = ReadOnce(&sring->req_event);
  Napi::Object out = Napi::Object::New(env);
  out.Set("reqProdPvt", Napi::Number::New(env, next));
  out.Set("notify", Napi::Boolean::New(env, static_cast<RING_IDX>(next - ev) < static_cast<RING_IDX>(next - old)));
  return out;
}

// frontSetReqProd(page, value): publishes any req_prod (a hostile frontend's index games).
Napi::Value FrontSetReqProd(const Napi::CallbackInfo& info) {
  auto* sring = reinterpret_cast<xen_displif_sring*>(PageArg(info, 0));
  uint32_t v = U32Arg(info, 1, "reqProd");
  Wmb();
  WriteOnce(&sring->req_prod, v);
  Mb();
  return info.Env().Undefined();
}

// frontResponses(page, rspCons) -> { rspCons, responses }: the responses up to rsp_prod; sets rsp_event.
Napi::Value FrontResponses(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* sring = reinterpret_cast<xen_displif_sring*>(PageArg(info, 0));
  RING_IDX cons = U32Arg(info, 1, "rspCons");
  RING_IDX prod = ReadOnce(&sring->rsp_prod);
  Rmb();
  Napi::Array list = Napi::Array::New(env);
  uint32_t n = 0;
  if (static_cast<RING_IDX>(prod - cons) <= kRingSize) {
    for (; cons != prod; cons++) {
      xendispl_resp r;
      std::memcpy(&r, &sring->ring[cons & (kRingSize - 1)].rsp, sizeof r);
      Napi::Object o = Napi::Object::New(env);
      o.Set("id", Napi::Number::New(env, r.id));
      o.Set("operation", Napi::Number::New(env, r.operation));
      o.Set("status", Napi::Number::New(env, r.status));
      if (r.operation == XENDISPL_OP_GET_EDID) o.Set("edidSize", Napi::Number::New(env, r.op.get_edid.edid_sz));
      list.Set(n++, o);
    }
  }
  WriteOnce(&sring->rsp_event, static_cast<RING_IDX>(cons + 1));
  Mb();
  Napi::Object out = Napi::Object::New(env);
  out.Set("rspCons", Napi::Number::New(env, cons));
  out.Set("responses", list);
  return out;
}

// frontEvents(page) -> events: consumes the event page (in_cons = in_prod), as the Linux frontend does.
Napi::Value FrontEvents(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint8_t* page = PageArg(info, 0);
  auto* hdr = reinterpret_cast<xendispl_event_page*>(page);
  uint32_t prod = ReadOnce(&hdr->in_prod);
  Rmb();
  uint32_t cons = ReadOnce(&hdr->in_cons);
  Napi::Array list = Napi::Array::New(env);
  uint32_t n = 0;
  if (static_cast<uint32_t>(prod - cons) <= XENDISPL_IN_RING_LEN) {
    for (; cons != prod; cons++) {
      xendispl_evt e;
      std::memcpy(&e, &XENDISPL_IN_RING_REF(page, cons), sizeof e);
      Napi::Object o = Napi::Object::New(env);
      o.Set("id", Napi::Number::New(env, e.id));
      o.Set("type", Napi::Number::New(env, e.type));
      o.Set("fbCookie", Cookie(env, e.op.pg_flip.fb_cookie));
      list.Set(n++, o);
    }
  }
  WriteOnce(&hdr->in_cons, cons);
  Wmb();
  return list;
}

void SetNum(Napi::Env env, Napi::Object o, const char* name, double v) { o.Set(name, Napi::Number::New(env, v)); }

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("reqConsume", Napi::Function::New(env, ReqConsume, "reqConsume"));
  exports.Set("finalCheckRequests", Napi::Function::New(env, FinalCheckRequests, "finalCheckRequests"));
  exports.Set("respond", Napi::Function::New(env, Respond, "respond"));
  exports.Set("evtPush", Napi::Function::New(env, EvtPush, "evtPush"));
  exports.Set("dirRead", Napi::Function::New(env, DirRead, "dirRead"));
  exports.Set("dirWrite", Napi::Function::New(env, DirWrite, "dirWrite"));
  exports.Set("dirInit", Napi::Function::New(env, DirInit, "dirInit"));
  exports.Set("frontInit", Napi::Function::New(env, FrontInit, "frontInit"));
  exports.Set("frontEventsInit", Napi::Function::New(env, FrontEventsInit, "frontEventsInit"));
  exports.Set("frontPush", Napi::Function::New(env, FrontPush, "frontPush"));
  exports.Set("frontSetReqProd", Napi::Function::New(env, FrontSetReqProd, "frontSetReqProd"));
  exports.Set("frontResponses", Napi::Function::New(env, FrontResponses, "frontResponses"));
  exports.Set("frontEvents", Napi::Function::New(env, FrontEvents, "frontEvents"));
  Napi::Object c = Napi::Object::New(env);
  SetNum(env, c, "RING_SIZE", kRingSize);
  SetNum(env, c, "IN_RING_LEN", XENDISPL_IN_RING_LEN);
  SetNum(env, c, "GREFS_PER_DIR_PAGE", kGrefsPerDirPage);
  SetNum(env, c, "PAGE_SIZE", kXenPageSize);
  SetNum(env, c, "OP_DBUF_CREATE", XENDISPL_OP_DBUF_CREATE);
  SetNum(env, c, "OP_DBUF_DESTROY", XENDISPL_OP_DBUF_DESTROY);
  SetNum(env, c, "OP_FB_ATTACH", XENDISPL_OP_FB_ATTACH);
  SetNum(env, c, "OP_FB_DETACH", XENDISPL_OP_FB_DETACH);
  SetNum(env, c, "OP_SET_CONFIG", XENDISPL_OP_SET_CONFIG);
  SetNum(env, c, "OP_PG_FLIP", XENDISPL_OP_PG_FLIP);
  SetNum(env, c, "OP_GET_EDID", XENDISPL_OP_GET_EDID);
  SetNum(env, c, "EVT_PG_FLIP", XENDISPL_EVT_PG_FLIP);
  SetNum(env, c, "DBUF_FLG_REQ_ALLOC", XENDISPL_DBUF_FLG_REQ_ALLOC);
  SetNum(env, c, "EDID_MAX_SIZE", XENDISPL_EDID_MAX_SIZE);
  SetNum(env, c, "PROTOCOL_VERSION", XENDISPL_PROTOCOL_VERSION_INT);
  // Response statuses are -XEN_E*: xen/errno.h.
  SetNum(env, c, "XEN_EPERM", XEN_EPERM);
  SetNum(env, c, "XEN_ENOENT", XEN_ENOENT);
  SetNum(env, c, "XEN_EIO", XEN_EIO);
  SetNum(env, c, "XEN_E2BIG", XEN_E2BIG);
  SetNum(env, c, "XEN_ENOMEM", XEN_ENOMEM);
  SetNum(env, c, "XEN_EFAULT", XEN_EFAULT);
  SetNum(env, c, "XEN_EBUSY", XEN_EBUSY);
  SetNum(env, c, "XEN_EEXIST", XEN_EEXIST);
  SetNum(env, c, "XEN_EINVAL", XEN_EINVAL);
  SetNum(env, c, "XEN_ENOSPC", XEN_ENOSPC);
  SetNum(env, c, "XEN_ERANGE", XEN_ERANGE);
  SetNum(env, c, "XEN_ENOSYS", XEN_ENOSYS);
  SetNum(env, c, "XEN_EOPNOTSUPP", XEN_EOPNOTSUPP);
  SetNum(env, c, "XEN_EOVERFLOW", XEN_EOVERFLOW);
  exports.Set("constants", c);
  return exports;
}

}  // namespace zcopy

static Napi::Object InitPvDisplay(Napi::Env env, Napi::Object exports) { return zcopy::Init(env, exports); }
NODE_API_MODULE(zcopy_pv_display, InitPvDisplay)
