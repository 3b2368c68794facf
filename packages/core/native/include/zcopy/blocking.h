// A blocking call run on the libuv threadpool, settled as a Promise on the JS thread.
// Each call has a CancelToken: cancel() from JS sets its flag, which a call that checks between slices reads
// (cancelled()), and, for a call that polls, fires its cancel fd (an eventfd made only when the call asks for it
// with fd(): a call that never polls makes no eventfd, no close). The TS side (runBlocking in @zcopy/core) adds
// timeouts, AbortSignal and owner pinning.
#pragma once
#include <napi.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "errors.h"

namespace zcopy {

class CancelToken {
 public:
  CancelToken() = default;
  ~CancelToken() { Close(); }
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  // Whether cancel() was called (any thread).
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

  // The cancel fd, readable once cancel() was called: made on the first call (on the worker thread), already
  // readable if the cancel came first. -1 with errno set when eventfd fails, or after Close().
  int fd() {
    std::lock_guard<std::mutex> lock(mu_);
    if (fd_ >= 0 || closed_) return fd_;
    fd_ = ::eventfd(cancelled() ? 1 : 0, EFD_CLOEXEC | EFD_NONBLOCK);
    return fd_;
  }

  void Cancel() {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    cancelled_.store(true, std::memory_order_release);
    if (fd_ < 0) return;
    uint64_t one = 1;
    ssize_t r = ::write(fd_, &one, sizeof one);
    (void)r;
  }

  // Called on the JS thread once the work has finished: no fd outlives its call.
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    closed_ = true;
  }

 private:
  std::mutex mu_;
  std::atomic<bool> cancelled_{false};
  int fd_ = -1;
  bool closed_ = false;
};

template <typename Result>
class BlockingCall final : public Napi::AsyncWorker {
 public:
  // work runs off the JS thread and returns 0 or an errno (ECANCELED once it saw the cancel);
  // done converts the result on the JS thread.
  using Work = std::function<int(Result&, CancelToken&)>;
  using Done = std::function<Napi::Value(Napi::Env, Result&)>;

  // Returns { promise, cancel() }.
  static Napi::Object Start(Napi::Env env, const char* syscall, const char* request, Work work, Done done) {
    auto* call = new BlockingCall(env, syscall, request, std::move(work), std::move(done));
    std::shared_ptr<CancelToken> token = call->token_;
    Napi::Object out = Napi::Object::New(env);
    out.Set("promise", call->deferred_.Promise());
    out.Set("cancel", Napi::Function::New(env, [token](const Napi::CallbackInfo&) { token->Cancel(); }));
    call->Queue();
    return out;
  }

 protected:
  void Execute() override { err_ = work_(result_, *token_); }

  void OnOK() override {
    token_->Close();
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (err_ != 0) {
      deferred_.Reject(KernelError(env, err_, syscall_, request_).Value());
      return;
    }
    try {
      deferred_.Resolve(done_(env, result_));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

  void OnError(const Napi::Error& e) override {
    token_->Close();
    deferred_.Reject(e.Value());
  }

 private:
  BlockingCall(Napi::Env env, const char* syscall, const char* request, Work work, Done done)
      : Napi::AsyncWorker(env, "zcopy.BlockingCall"),
        deferred_(Napi::Promise::Deferred::New(env)),
        token_(std::make_shared<CancelToken>()),
        work_(std::move(work)),
        done_(std::move(done)),
        syscall_(syscall),
        request_(request) {}

  Napi::Promise::Deferred deferred_;
  std::shared_ptr<CancelToken> token_;
  Work work_;
  Done done_;
  const char* syscall_;
  const char* request_;
  Result result_{};
  int err_ = 0;
};

}  // namespace zcopy
