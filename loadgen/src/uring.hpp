#pragma once
// A worker's io_uring for plain-http connections: connect, send, a multishot receive into a ring
// of provided buffers (constant memory, shared by the worker's connections) and timeouts. The
// worker's loop makes one io_uring_enter per turn: it submits what the last turn's completions
// queued and waits for the next ones (or the next tick). The kernel's completion work runs
// inside that call only (DEFER_TASKRUN): no signals or interrupts between turns.
#include <liburing.h>
#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

namespace watchpost::loadgen {

class uring {
 public:
  // One completion: the tag given with the operation, its result (bytes, or -errno), and for a
  // receive the bytes, valid during the call only.
  struct completion {
    std::uint64_t tag;
    int result;
    const char* data;
    bool more;  // a multishot receive is still armed
  };
  using handler = void (*)(void* owner, const completion&);

  // Empty when this process may use io_uring with every feature the engine needs (checked by
  // a real multishot receive on a socket pair), else why not. WATCHPOST_IO_URING=0 refuses it,
  // as /proc/sys/kernel/io_uring_disabled or a seccomp filter would.
  static std::string unavailable();

  // A worker's ring could not be set up although the probe passed (a descriptor or memory
  // limit reached by then); WATCHPOST_IO_URING=late simulates it.
  struct setup_error : std::runtime_error {
    using std::runtime_error::runtime_error;
  };

  // Sized for `connections`; throws setup_error when the kernel refuses. The ring stays
  // disabled until start(), which runs on the thread that submits from then on.
  explicit uring(std::size_t connections) : uring(connections, false) {}
  ~uring();
  uring(const uring&) = delete;
  uring& operator=(const uring&) = delete;

  void start(handler h, void* owner);
  // One turn: submits what is queued, waits for a completion until `until` at most, and hands
  // the completions to the handler (a bounded number, so the loop's clock checks run). With
  // `batch` > 1 it waits for that many, but no more than 50 µs past the first (Linux 6.12+;
  // before, it waits for one).
  void run_once(std::chrono::steady_clock::time_point until, unsigned batch);
  void flush() { io_uring_submit(&ring_); }  // at the end: the closes go

  // `at` is read at submission: it lives in the caller until the next turn.
  void timeout(const __kernel_timespec& at, std::uint64_t tag);
  void connect(int fd, const sockaddr* address, socklen_t size, std::uint64_t tag);
  void send(int fd, const char* data, std::size_t size, std::uint64_t tag);
  void receive(int fd, std::uint64_t tag);
  // The operation with this tag completes now, with -ECANCELED.
  void cancel(std::uint64_t tag);
  // After the cancels of what is pending on it (else the socket stays open until that ends).
  void close(int fd);

 private:
  uring(std::size_t connections, bool probe);
  io_uring_sqe* next_sqe();
  unsigned drain(unsigned budget);

  io_uring ring_{};
  io_uring_buf_ring* buffer_ring_ = nullptr;
  std::size_t buffer_ring_bytes_ = 0;
  std::unique_ptr<char[]> buffers_;  // default-initialised: pages count in RSS once used only
  unsigned buffer_count_ = 0;
  bool min_timeout_ = false;  // the kernel has the minimum wait run_once's batches need
  handler handler_ = nullptr;
  void* owner_ = nullptr;
};

}  // namespace watchpost::loadgen
