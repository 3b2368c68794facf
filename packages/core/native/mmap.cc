// mmap as an external ArrayBuffer; munmap detaches it, so no JS view can reach unmapped memory.
#include <sys/mman.h>

#include <zcopy/args.h>
#include <zcopy/errors.h>

#include "state.h"

namespace zcopy {
namespace {

const long kPageSize = ::sysconf(_SC_PAGESIZE);

// GC of a mapping nobody unmapped: release it here (the JS side warns about the leak).
void FinalizeMapping(napi_env, void*, void* hint) {
  auto* m = static_cast<Mapping*>(hint);
  if (!m->unmapped) ::munmap(m->addr, m->length);
  // The address may already belong to a newer mapping: erase only our own entry.
  auto it = m->state->mappings.find(m->addr);
  if (it != m->state->mappings.end() && it->second == m) m->state->mappings.erase(it);
  delete m;
}

// mmap(fd, length, prot, flags, offset) -> ArrayBuffer
Napi::Value Mmap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  uint64_t length = U64Arg(info, 1, "length");
  int prot = static_cast<int>(U32Arg(info, 2, "prot"));
  int flags = static_cast<int>(U32Arg(info, 3, "flags"));
  uint64_t offset = U64Arg(info, 4, "offset");
  if (length == 0) throw Napi::RangeError::New(env, "mmap length must be greater than 0");
  if (offset % static_cast<uint64_t>(kPageSize) != 0)
    throw Napi::RangeError::New(env, "mmap offset must be a multiple of the page size");

  void* addr = ::mmap(nullptr, length, prot, flags, fd, static_cast<off_t>(offset));
  if (addr == MAP_FAILED) ThrowErrno(env, "mmap");

  auto* m = new Mapping{addr, static_cast<size_t>(length), false, GetState(env)};
  m->state->mappings[addr] = m;
  napi_value ab;
  napi_status st = napi_create_external_arraybuffer(env, addr, length, FinalizeMapping, m, &ab);
  if (st != napi_ok) {
    ::munmap(addr, length);
    m->state->mappings.erase(addr);
    delete m;
    throw Napi::Error::New(env, "could not wrap the mapping in an ArrayBuffer");
  }
  return Napi::Value(env, ab);
}

// munmap(arrayBuffer) -> true if this call unmapped it; the ArrayBuffer is detached (byteLength 0).
Napi::Value Munmap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArrayBuffer()) throw Napi::TypeError::New(env, "argument 'buffer' must be an ArrayBuffer from mmap");
  Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
  void* addr = ab.Data();
  auto state = GetState(env);
  auto it = state->mappings.find(addr);
  if (addr == nullptr || it == state->mappings.end() || it->second->unmapped) return Napi::Boolean::New(env, false);
  Mapping* m = it->second;
  // Detach first: from here on no view can touch the pages we give back.
  ab.Detach();
  if (::munmap(m->addr, m->length) < 0) ThrowErrno(env, "munmap");
  m->unmapped = true;
  state->mappings.erase(it);
  return Napi::Boolean::New(env, true);
}

Napi::Value MappingCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(GetState(info.Env())->mappings.size()));
}

}  // namespace

void InitMmap(Napi::Env env, Napi::Object exports) {
  exports.Set("mmap", Napi::Function::New(env, Mmap, "mmap"));
  exports.Set("munmap", Napi::Function::New(env, Munmap, "munmap"));
  exports.Set("mappingCount", Napi::Function::New(env, MappingCount, "mappingCount"));
}

}  // namespace zcopy
