// IOCTL_GNTDEV_GRANT_COPY: the hypervisor copies between granted pages and this process's memory, no mapping.
// Segments arrive packed by the JS side (copy.ts, packSegments) into a Uint32Array of kWords words each, local
// buffers listed once beside it: one N-API call per copy instead of a dozen property reads per segment. The packed
// form is this addon's own (never a kernel struct): every field is checked again here, a local side against its
// buffer's length (the kernel writes wherever the pointer says), a grant side within its page.
// Returns each segment's GNTST_* status.
#include <zcopy/args.h>
#include <zcopy/blocking.h>
#include <zcopy/errors.h>
#include <zcopy/ioctl.h>
#include <zcopy/layout.h>

#include <atomic>
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

// The packed segment (copy.ts writes the same layout): length, which sides are grants, then per side either
// ref, domid, offset (a grant) or buffer index, 0, offset (local memory).
constexpr uint32_t kWords = 8;
constexpr uint32_t kWordLength = 0, kWordKinds = 1, kWordSource = 2, kWordDest = 5;
constexpr uint32_t kSourceIsGrant = 1, kDestIsGrant = 2;

struct LocalBuffer {
  uint8_t* data;
  size_t length;
};

// The segments of one call plus references that keep their local buffers alive until the call is over, and where
// each buffer's bytes were when the segments were checked (a plan checks them again before each run).
struct CopyJob {
  // A plan's segments are the kernel's argument as they are: IOCTL_GNTDEV_GRANT_COPY only writes each segment's
  // `status`, which every run reads back before the next may use them (`inUse`, see RunCopy).
  mutable std::vector<gntdev_grant_copy_segment> segments;
  std::vector<Napi::Reference<Napi::Value>> keepAlive;
  std::vector<LocalBuffer> buffers;
  // Set while a run uses `segments` in place; a run that finds it set (the same plan on several threads at once)
  // works on a copy.
  mutable std::atomic_flag inUse = ATOMIC_FLAG_INIT;
};

// An ArrayBuffer or a view's bytes now; false for anything else.
bool BytesOf(Napi::Value buf, LocalBuffer* out) {
  if (buf.IsArrayBuffer()) {
    Napi::ArrayBuffer ab = buf.As<Napi::ArrayBuffer>();
    *out = {static_cast<uint8_t*>(ab.Data()), ab.ByteLength()};
  } else if (buf.IsTypedArray()) {
    Napi::TypedArray ta = buf.As<Napi::TypedArray>();
    *out = {static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset(), ta.ByteLength()};
  } else if (buf.IsDataView()) {
    Napi::DataView dv = buf.As<Napi::DataView>();
    *out = {static_cast<uint8_t*>(dv.ArrayBuffer().Data()) + dv.ByteOffset(), dv.ByteLength()};
  } else {
    return false;
  }
  return true;
}

// A plan's pointers were checked when it was prepared: a buffer detached (transferred) or shrunk since then would
// have the kernel write where the buffer no longer is. Checked per buffer, on the JS thread, before each run.
void CheckPlanBuffers(Napi::Env env, const CopyJob& job) {
  for (size_t b = 0; b < job.buffers.size(); b++) {
    LocalBuffer now{nullptr, 0};
    BytesOf(job.keepAlive[b].Value(), &now);
    if (now.data != job.buffers[b].data || now.length < job.buffers[b].length)
      throw Napi::RangeError::New(env, "buffers[" + std::to_string(b) +
                                           "] of this copy plan was detached or shrunk since prepareCopy(): "
                                           "prepare the copy again");
  }
}

std::string Where(uint32_t i, const char* side) { return "segments[" + std::to_string(i) + "]." + side; }

// One side from its three words: a grant (ref, domid, offset within the page) or a range of a listed buffer.
void Side(Napi::Env env, const uint32_t* w, bool grant, uint16_t len, uint32_t i, const char* name,
          const std::vector<LocalBuffer>& buffers, decltype(gntdev_grant_copy_segment::source)& out) {
  if (grant) {
    if (w[1] >= DOMID_FIRST_RESERVED) throw Napi::RangeError::New(env, Where(i, name) + ".domid is out of range");
    if (w[2] >= kXenPageSize || w[2] + len > kXenPageSize)
      throw Napi::RangeError::New(env,
                                  Where(i, name) + ": a grant side cannot cross its page (offset + length > 4096)");
    out.foreign.ref = w[0];
    out.foreign.domid = static_cast<domid_t>(w[1]);
    out.foreign.offset = static_cast<uint16_t>(w[2]);
    return;
  }
  if (w[0] >= buffers.size()) throw Napi::RangeError::New(env, Where(i, name) + ": no such buffer");
  const LocalBuffer& b = buffers[w[0]];
  if (b.data == nullptr || static_cast<uint64_t>(w[2]) + len > b.length)
    throw Napi::RangeError::New(env, Where(i, name) + ": offset + length goes past the end of the buffer");
  out.virt = b.data + w[2];
}

// (words: Uint32Array, count, buffers: Array) at info[arg..arg+2] -> the job, every segment checked.
std::shared_ptr<CopyJob> ParsePacked(const Napi::CallbackInfo& info, size_t arg) {
  Napi::Env env = info.Env();
  if (!info[arg].IsTypedArray() || info[arg].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    throw Napi::TypeError::New(env, "argument 'words' must be a Uint32Array");
  Napi::Uint32Array words = info[arg].As<Napi::Uint32Array>();
  uint32_t count = U32Arg(info, arg + 1, "count");
  if (static_cast<uint64_t>(count) * kWords > words.ElementLength())
    throw Napi::RangeError::New(env, "argument 'count' is larger than 'words' holds");
  if (!info[arg + 2].IsArray()) throw Napi::TypeError::New(env, "argument 'buffers' must be an array");
  Napi::Array list = info[arg + 2].As<Napi::Array>();

  auto job = std::make_shared<CopyJob>();
  std::vector<LocalBuffer>& buffers = job->buffers;
  buffers.resize(list.Length());
  job->keepAlive.reserve(list.Length());
  for (uint32_t b = 0; b < list.Length(); b++) {
    Napi::Value buf = list.Get(b);
    if (!BytesOf(buf, &buffers[b]))
      throw Napi::TypeError::New(env, "buffers[" + std::to_string(b) + "] must be an ArrayBuffer or a view of one");
    job->keepAlive.push_back(Napi::Persistent(buf));
  }

  const uint32_t* w = words.Data();
  job->segments.resize(count);
  for (uint32_t i = 0; i < count; i++, w += kWords) {
    auto seg = Zeroed<gntdev_grant_copy_segment>();
    uint32_t len = w[kWordLength], kinds = w[kWordKinds];
    if (len < 1 || len > kXenPageSize)
      throw Napi::RangeError::New(env, "segments[" + std::to_string(i) + "].length must be within 1..4096");
    if (kinds == 0 || kinds > (kSourceIsGrant | kDestIsGrant))
      throw Napi::RangeError::New(
          env, "segments[" + std::to_string(i) + "]: one side must be a grant (local to local is not a grant copy)");
    seg.len = static_cast<uint16_t>(len);
    Side(env, w + kWordSource, kinds & kSourceIsGrant, seg.len, i, "source", buffers, seg.source);
    Side(env, w + kWordDest, kinds & kDestIsGrant, seg.len, i, "dest", buffers, seg.dest);
    if (kinds & kSourceIsGrant) seg.flags |= GNTCOPY_source_gref;
    if (kinds & kDestIsGrant) seg.flags |= GNTCOPY_dest_gref;
    job->segments[i] = seg;
  }
  return job;
}

Napi::Int16Array Statuses(Napi::Env env, const std::vector<int16_t>& st) {
  Napi::Int16Array out = Napi::Int16Array::New(env, st.size());
  for (size_t i = 0; i < st.size(); i++) out[i] = st[i];
  return out;
}

// The kernel writes each segment's status into the array. A one-shot job is the call's own and used as it is; a
// prepared job is used in place by one run at a time (no 2,025-segment copy, no allocation per frame), and a run
// that overlaps another on the same plan works on a copy of it.
int Ioctl(int fd, std::vector<gntdev_grant_copy_segment>& segs, std::vector<int16_t>& statuses) {
  auto op = Zeroed<ioctl_gntdev_grant_copy>();
  op.count = static_cast<unsigned int>(segs.size());
  op.segments = segs.data();
  if (RetryIoctl(fd, IOCTL_GNTDEV_GRANT_COPY, &op) < 0) return errno;
  statuses.resize(segs.size());
  for (size_t i = 0; i < segs.size(); i++) statuses[i] = segs[i].status;
  return 0;
}

int RunCopy(int fd, const CopyJob& job, std::vector<int16_t>& statuses) {
  if (!job.inUse.test_and_set(std::memory_order_acquire)) {
    int err = Ioctl(fd, job.segments, statuses);
    job.inUse.clear(std::memory_order_release);
    return err;
  }
  std::vector<gntdev_grant_copy_segment> segs(job.segments);
  return Ioctl(fd, segs, statuses);
}

int RunOwnCopy(int fd, CopyJob& job, std::vector<int16_t>& statuses) { return Ioctl(fd, job.segments, statuses); }

using JobHandle = std::shared_ptr<const CopyJob>;

// prepareCopy(words, count, buffers) -> an opaque plan: the segments parsed and checked once, their buffers kept alive
// for as long as the plan lives. A frame copied every frame pays the parsing once.
Napi::Value PrepareCopy(const Napi::CallbackInfo& info) {
  auto job = ParsePacked(info, 0);
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
  CheckPlanBuffers(info.Env(), *job);
  std::vector<int16_t> statuses;
  int err = RunCopy(fd, *job, statuses);
  if (err != 0) throw KernelError(info.Env(), err, "ioctl", "IOCTL_GNTDEV_GRANT_COPY");
  return Statuses(info.Env(), statuses);
}

// runCopyAsync(fd, plan) -> { promise, cancel }; the plan stays alive until the call settles.
Napi::Value RunPlanAsync(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  JobHandle job = PlanArg(info, 1);
  CheckPlanBuffers(info.Env(), *job);
  return BlockingCall<std::vector<int16_t>>::Start(
      info.Env(), "ioctl", "IOCTL_GNTDEV_GRANT_COPY",
      [fd, job](std::vector<int16_t>& statuses, CancelToken&) { return RunCopy(fd, *job, statuses); },
      [job](Napi::Env env, std::vector<int16_t>& statuses) -> Napi::Value { return Statuses(env, statuses); });
}

// grantCopy(fd, words, count, buffers) -> Int16Array of GNTST_* per segment.
Napi::Value GrantCopy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0);
  auto job = ParsePacked(info, 1);
  std::vector<int16_t> statuses;
  int err = RunOwnCopy(fd, *job, statuses);
  if (err != 0) throw KernelError(env, err, "ioctl", "IOCTL_GNTDEV_GRANT_COPY");
  return Statuses(env, statuses);
}

// grantCopyAsync(fd, words, count, buffers) -> { promise, cancel }: the same on the threadpool (a frame is
// thousands of hypercall ops). The job, and so the buffer references, lives until the call is settled on the JS
// thread; it is this call's alone, so the ioctl uses its segments in place.
Napi::Value GrantCopyAsync(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  auto job = ParsePacked(info, 1);
  return BlockingCall<std::vector<int16_t>>::Start(
      info.Env(), "ioctl", "IOCTL_GNTDEV_GRANT_COPY",
      [fd, job](std::vector<int16_t>& statuses, CancelToken&) { return RunOwnCopy(fd, *job, statuses); },
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
