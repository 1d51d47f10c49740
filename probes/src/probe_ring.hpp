#pragma once
// A worker's io_uring for plain-http probes: one per io_context (the agent runs one per worker
// thread), so no locks. Connections queue their operations on it; the operations queued during
// one turn of the io_context's loop go to the kernel in one io_uring_enter (a handler posted by
// the first of them), and the completions that are ready then are handed out at once. Later
// ones wake the loop through the ring's descriptor, which the reactor watches for readability.
// WATCHPOST_IO_URING=0 refuses it (as kernel.io_uring_disabled would): the Asio path serves.
#include <liburing.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <optional>

namespace watchpost::probes::detail {

class probe_ring : public boost::asio::execution_context::service {
 public:
  // What an operation's completion goes to; `tag` says which of its operations ended.
  class waiter {
   public:
    virtual void completed(unsigned tag, int result) = 0;

   protected:
    ~waiter() = default;
  };

  static boost::asio::execution_context::id id;

  explicit probe_ring(boost::asio::execution_context& context);
  ~probe_ring() override;

  // The ring of the executor's io_context, or null when io_uring is refused there.
  static probe_ring* of(const boost::asio::any_io_executor& executor);

  // The next submission entry, owned by `w` under `tag` (0..7): filled by the caller, submitted
  // at the end of this turn.
  io_uring_sqe* queue(waiter* w, unsigned tag);
  // Nobody waits for these.
  void cancel_fd(int fd);
  void close(int fd);

 private:
  void shutdown() override;
  io_uring_sqe* next_sqe();
  void submit();
  void drain();
  void watch();

  io_uring ring_{};
  bool ok_ = false;
  std::optional<boost::asio::posix::stream_descriptor> descriptor_;
  unsigned in_flight_ = 0;  // tagged operations without their completion yet
  bool submit_posted_ = false;
  bool watching_ = false;
};

}  // namespace watchpost::probes::detail
