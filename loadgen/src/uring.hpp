#pragma once
// A worker's io_uring for plain-http connections: connect, send and a multishot receive into a
// ring of provided buffers (constant memory, shared by the worker's connections). Asio's reactor
// watches the ring's descriptor, so timers, posts and stop stay Asio's; the operations queued
// during one turn of completions (or one timer handler) go to the kernel in one submit.
#include <liburing.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
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

  // Sized for `connections`; throws std::runtime_error when the kernel refuses. The ring stays
  // disabled until start(), which runs on the thread that submits from then on.
  uring(boost::asio::io_context& context, std::size_t connections);
  ~uring();
  uring(const uring&) = delete;
  uring& operator=(const uring&) = delete;

  void start(handler h, void* owner);
  void stop();  // submits what is queued (closes) and stops watching

  void connect(int fd, const sockaddr* address, socklen_t size, std::uint64_t tag);
  void send(int fd, const char* data, std::size_t size, std::uint64_t tag);
  void receive(int fd, std::uint64_t tag);
  // Cancels what is pending on fd (those complete with -ECANCELED), then closes it.
  void close(int fd);

 private:
  io_uring_sqe* next_sqe();
  void queued();
  void wait();
  void on_ready();
  unsigned drain(unsigned budget);

  boost::asio::io_context& context_;
  io_uring ring_{};
  boost::asio::posix::stream_descriptor watch_;
  io_uring_buf_ring* buffer_ring_ = nullptr;
  std::size_t buffer_ring_bytes_ = 0;
  std::unique_ptr<char[]> buffers_;  // default-initialised: pages count in RSS once used only
  unsigned buffer_count_ = 0;
  handler handler_ = nullptr;
  void* owner_ = nullptr;
  bool in_turn_ = false;   // completions are being handled: their operations go in its submit
  bool flushing_ = false;  // a submit is posted for operations queued outside a turn
  bool waiting_ = false;   // Asio watches the ring's descriptor
  bool stopped_ = false;
};

}  // namespace watchpost::loadgen
