// IOCTL_GNTDEV_GRANT_COPY: the hypervisor copies between granted pages and this process's memory, no mapping.
// Segments arrive as JS objects; a local side is a buffer range checked here against its length (the kernel
// writes wherever the pointer says), a foreign side a ref/domid/offset inside one grant.
// Returns each segment's GNTST_* status.
#include <zcopy/args.h>
#include <zcopy/blocking.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>
#include <zcopy/layout.h>

#include <memory>
#include <string>
#include <vector>

#include "addon.h"

ZCOPY_ASSERT_SIZE(struct gntdev_grant_copy_segment, 24);
ZCOPY_ASSERT_OFFSET(struct gntdev_grant_copy_segment, dest, 8);
ZCOPY_ASSERT_OFFSET(struct gntdev_grant_copy_segment, len, 16);
ZCOPY_ASSERT_OFFSET(struct gntdev_grant_copy_segment, flags, 18);
ZCOPY_ASSERT_OFFSET(struct gntdev_grant_copy_segment, status, 20);
ZCOPY_ASSERT_SIZE(struct ioctl_gntdev_grant_copy, 16);
ZCOPY_ASSERT_OFFSET(struct ioctl_gntdev_grant_copy, segments, 8);

namespace zcopy {
namespace {

// The segments of one call plus references that keep their local buffers alive until the call is over.
struct CopyJob {
  std::vector<gntdev_grant_copy_segment> segments;
  std::vector<Napi::Reference<Napi::Value>> keepAlive;
  napi_value lastBuffer = nullptr;  // while parsing: one reference per run of segments on the same buffer
};

uint32_t Field(Napi::Env env, Napi::Object o, const char* key, const std::string& where, uint32_t max) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(env, where + "." + key + " must be an integer");
  double d = v.As<Napi::Number>().DoubleValue();
  if (d != static_cast<double>(static_cast<int64_t>(d)))
    throw Napi::TypeError::New(env, where + "." + key + " must be an integer");
  if (d < 0 || d > max) throw Napi::RangeError::New(env, where + "." + key + " is out of range");
  return static_cast<uint32_t>(d);
}

// Fills one side of a segment; returns true for a grant ref, false for local memory.
bool Side(Napi::Env env, Napi::Object side, uint16_t len, const std::string& where, CopyJob& job, void** virt,
          grant_ref_t* ref, uint16_t* offset, domid_t* domid) {
  Napi::Value buf = side.Get("buffer");
  if (!buf.IsUndefined()) {
    uint8_t* data;
    size_t length;
    if (buf.IsArrayBuffer()) {
      data = static_cast<uint8_t*>(buf.As<Napi::ArrayBuffer>().Data());
      length = buf.As<Napi::ArrayBuffer>().ByteLength();
    } else if (buf.IsTypedArray() || buf.IsDataView()) {
      void* p = nullptr;
      size_t byteLength = 0;
      if (buf.IsTypedArray()) {
        Napi::TypedArray ta = buf.As<Napi::TypedArray>();
        p = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
        byteLength = ta.ByteLength();
      } else {
        Napi::DataView dv = buf.As<Napi::DataView>();
        p = static_cast<uint8_t*>(dv.ArrayBuffer().Data()) + dv.ByteOffset();
        byteLength = dv.ByteLength();
      }
      data = static_cast<uint8_t*>(p);
      length = byteLength;
    } else {
      throw Napi::TypeError::New(env, where + ".buffer must be an ArrayBuffer or a view of one");
    }
    uint32_t off = Field(env, side, "offset", where, 0xffffffffu);
    if (data == nullptr || static_cast<uint64_t>(off) + len > length)
      throw Napi::RangeError::New(env, where + ": offset + length goes past the end of the buffer");
    *virt = data + off;
    bool same = false;
    if (job.lastBuffer != nullptr) napi_strict_equals(env, job.lastBuffer, buf, &same);
    if (!same) {
      job.keepAlive.push_back(Napi::Persistent(buf));
      job.lastBuffer = buf;
    }
    return false;
  }
  *ref = Field(env, side, "ref", where, 0xffffffffu);
  *domid = static_cast<domid_t>(Field(env, side, "domid", where, DOMID_FIRST_RESERVED - 1));
  uint32_t off = Field(env, side, "offset", where, kXenPageSize - 1);
  if (off + len > kXenPageSize)
    throw Napi::RangeError::New(env, where + ": a grant side cannot cross its page (offset + length > 4096)");
  *offset = static_cast<uint16_t>(off);
  return true;
}

std::shared_ptr<CopyJob> ParseSegments(const Napi::CallbackInfo& info, size_t arg) {
  Napi::Env env = info.Env();
  if (!info[arg].IsArray()) throw Napi::TypeError::New(env, "argument 'segments' must be an array");
  Napi::Array list = info[arg].As<Napi::Array>();
  auto job = std::make_shared<CopyJob>();
  job->segments.resize(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) {
    std::string where = "segments[" + std::to_string(i) + "]";
    Napi::Value v = list.Get(i);
    if (!v.IsObject()) throw Napi::TypeError::New(env, where + " must be an object");
    Napi::Object o = v.As<Napi::Object>();
    auto seg = Zeroed<gntdev_grant_copy_segment>();
    uint16_t len = static_cast<uint16_t>(Field(env, o, "length", where, kXenPageSize));
    seg.len = len;
    Napi::Value src = o.Get("source"), dst = o.Get("dest");
    if (!src.IsObject() || !dst.IsObject()) throw Napi::TypeError::New(env, where + " needs source and dest objects");
    void* virt = nullptr;
    if (Side(env, src.As<Napi::Object>(), len, where + ".source", *job, &virt, &seg.source.foreign.ref,
             &seg.source.foreign.offset, &seg.source.foreign.domid))
      seg.flags |= GNTCOPY_source_gref;
    else
      seg.source.virt = virt;
    if (Side(env, dst.As<Napi::Object>(), len, where + ".dest", *job, &virt, &seg.dest.foreign.ref,
             &seg.dest.foreign.offset, &seg.dest.foreign.domid))
      seg.flags |= GNTCOPY_dest_gref;
    else
      seg.dest.virt = virt;
    if (!(seg.flags & (GNTCOPY_source_gref | GNTCOPY_dest_gref)))
      throw Napi::RangeError::New(env, where + ": one side must be a grant (local to local is not a grant copy)");
    job->segments[i] = seg;
  }
  job->lastBuffer = nullptr;
  return job;
}

Napi::Int16Array Statuses(Napi::Env env, const std::vector<int16_t>& st) {
  Napi::Int16Array out = Napi::Int16Array::New(env, st.size());
  for (size_t i = 0; i < st.size(); i++) out[i] = st[i];
  return out;
}

// The kernel writes each segment's status into the array: work on a copy, so a prepared job is never written
// (and may run on several threads at once).
int RunCopy(int fd, const CopyJob& job, std::vector<int16_t>& statuses) {
  std::vector<gntdev_grant_copy_segment> segs(job.segments);
  auto op = Zeroed<ioctl_gntdev_grant_copy>();
  op.count = static_cast<unsigned int>(segs.size());
  op.segments = segs.data();
  if (RetryIoctl(fd, IOCTL_GNTDEV_GRANT_COPY, &op) < 0) return errno;
  statuses.resize(segs.size());
  for (size_t i = 0; i < segs.size(); i++) statuses[i] = segs[i].status;
  return 0;
}

using JobHandle = std::shared_ptr<const CopyJob>;

// prepareCopy(segments) -> an opaque plan: the segments parsed and checked once, their buffers kept alive
// for as long as the plan lives. A frame copied every frame pays the parsing once.
Napi::Value PrepareCopy(const Napi::CallbackInfo& info) {
  auto job = ParseSegments(info, 0);
  return Napi::External<JobHandle>::New(info.Env(), new JobHandle(std::move(job)),
                                        [](Napi::Env, JobHandle* h) { delete h; });
}

JobHandle PlanArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsExternal()) throw Napi::TypeError::New(info.Env(), "argument 'plan' must come from prepareCopy");
  return *info[i].As<Napi::External<JobHandle>>().Data();
}

// runCopy(fd, plan) -> Int16Array of GNTST_* per segment.
Napi::Value RunPlan(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  JobHandle job = PlanArg(info, 1);
  std::vector<int16_t> statuses;
  int err = RunCopy(fd, *job, statuses);
  if (err != 0) throw KernelError(info.Env(), err, "ioctl", "IOCTL_GNTDEV_GRANT_COPY");
  return Statuses(info.Env(), statuses);
}

// runCopyAsync(fd, plan) -> { promise, cancel }; the plan stays alive until the call settles.
Napi::Value RunPlanAsync(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  JobHandle job = PlanArg(info, 1);
  return BlockingCall<std::vector<int16_t>>::Start(
      info.Env(), "ioctl", "IOCTL_GNTDEV_GRANT_COPY",
      [fd, job](std::vector<int16_t>& statuses, int) { return RunCopy(fd, *job, statuses); },
      [job](Napi::Env env, std::vector<int16_t>& statuses) -> Napi::Value { return Statuses(env, statuses); });
}

// grantCopy(fd, segments) -> Int16Array of GNTST_* per segment.
Napi::Value GrantCopy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  auto job = ParseSegments(info, 1);
  std::vector<int16_t> statuses;
  int err = RunCopy(fd, *job, statuses);
  if (err != 0) throw KernelError(env, err, "ioctl", "IOCTL_GNTDEV_GRANT_COPY");
  return Statuses(env, statuses);
}

// grantCopyAsync(fd, segments) -> { promise, cancel }: the same on the threadpool (a frame is thousands of
// hypercall ops). The job, and so the buffer references, lives until the call is settled on the JS thread.
Napi::Value GrantCopyAsync(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  auto job = ParseSegments(info, 1);
  return BlockingCall<std::vector<int16_t>>::Start(
      info.Env(), "ioctl", "IOCTL_GNTDEV_GRANT_COPY",
      [fd, job](std::vector<int16_t>& statuses, int) { return RunCopy(fd, *job, statuses); },
      [job](Napi::Env env, std::vector<int16_t>& statuses) -> Napi::Value { return Statuses(env, statuses); });
}

}  // namespace

void InitGrantCopy(Napi::Env env, Napi::Object exports) {
  exports.Set("grantCopy", Napi::Function::New(env, GrantCopy, "grantCopy"));
  exports.Set("grantCopyAsync", Napi::Function::New(env, GrantCopyAsync, "grantCopyAsync"));
  exports.Set("prepareCopy", Napi::Function::New(env, PrepareCopy, "prepareCopy"));
  exports.Set("runCopy", Napi::Function::New(env, RunPlan, "runCopy"));
  exports.Set("runCopyAsync", Napi::Function::New(env, RunPlanAsync, "runCopyAsync"));
  Napi::Object st = Napi::Object::New(env);
  st.Set("okay", Napi::Number::New(env, GNTST_okay));
  st.Set("general_error", Napi::Number::New(env, GNTST_general_error));
  st.Set("bad_domain", Napi::Number::New(env, GNTST_bad_domain));
  st.Set("bad_gntref", Napi::Number::New(env, GNTST_bad_gntref));
  st.Set("bad_handle", Napi::Number::New(env, GNTST_bad_handle));
  st.Set("bad_virt_addr", Napi::Number::New(env, GNTST_bad_virt_addr));
  st.Set("bad_dev_addr", Napi::Number::New(env, GNTST_bad_dev_addr));
  st.Set("no_device_space", Napi::Number::New(env, GNTST_no_device_space));
  st.Set("permission_denied", Napi::Number::New(env, GNTST_permission_denied));
  st.Set("bad_page", Napi::Number::New(env, GNTST_bad_page));
  st.Set("bad_copy_arg", Napi::Number::New(env, GNTST_bad_copy_arg));
  st.Set("address_too_big", Napi::Number::New(env, GNTST_address_too_big));
  st.Set("eagain", Napi::Number::New(env, GNTST_eagain));
  st.Set("no_space", Napi::Number::New(env, GNTST_no_space));
  exports.Set("GNTST", st);
}

}  // namespace zcopy
