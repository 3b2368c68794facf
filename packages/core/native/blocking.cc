// pollBlocking(fd, events, timeoutMs) -> { promise, cancel }: poll(2) on a threadpool thread.
// For fds epoll refuses (regular files, some device nodes) and as the core's own proof of BlockingCall.
#include <poll.h>

#include <zcopy/args.h>
#include <zcopy/blocking.h>

#include "state.h"

namespace zcopy {
namespace {

Napi::Value PollBlocking(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0);
  short events = static_cast<short>(U32Arg(info, 1, "events"));
  int timeoutMs = static_cast<int>(IntegerArg(info, 2, "timeoutMs", -1, 0x7fffffff));
  return BlockingCall<short>::Start(
      info.Env(), "poll", nullptr,
      [fd, events, timeoutMs](short& revents, CancelToken& cancel) -> int {
        int cancelFd = cancel.fd();
        if (cancelFd < 0) return cancel.cancelled() ? ECANCELED : errno;
        struct pollfd fds[2] = {{fd, events, 0}, {cancelFd, POLLIN, 0}};
        int r;
        do {
          r = ::poll(fds, 2, timeoutMs);
        } while (r < 0 && errno == EINTR);
        if (r < 0) return errno;
        if (fds[1].revents & POLLIN) return ECANCELED;
        revents = fds[0].revents;  // 0 on timeout
        return 0;
      },
      [](Napi::Env env, short& revents) -> Napi::Value { return Napi::Number::New(env, revents); });
}

}  // namespace

void InitBlocking(Napi::Env env, Napi::Object exports) {
  exports.Set("pollBlocking", Napi::Function::New(env, PollBlocking, "pollBlocking"));
  Napi::Object c = exports.Get("constants").As<Napi::Object>();
  c.Set("POLL_IN", Napi::Number::New(env, POLLIN));
  c.Set("POLL_OUT", Napi::Number::New(env, POLLOUT));
  c.Set("POLL_ERR", Napi::Number::New(env, POLLERR));
  c.Set("POLL_HUP", Napi::Number::New(env, POLLHUP));
  c.Set("POLL_NVAL", Napi::Number::New(env, POLLNVAL));
}

}  // namespace zcopy
