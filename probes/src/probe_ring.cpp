// A worker's io_uring for plain-http probes: see probe_ring.hpp.
#include "probe_ring.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstdlib>
#include <string_view>

namespace watchpost::probes::detail {

namespace asio = boost::asio;

asio::execution_context::id probe_ring::id;

namespace {

// user_data: the waiter's address with the tag in its low bits (a waiter is 8-byte aligned);
// 0 for the cancels and closes nobody waits for.
constexpr std::uint64_t tag_mask = 7;
// Several probes' operations per turn; a fuller queue is submitted at once (next_sqe).
constexpr unsigned submission_entries = 256;
constexpr unsigned completion_entries = 4096;
constexpr int max_shutdown_rounds = 100;  // of 10 ms at most

}  // namespace

probe_ring::probe_ring(asio::execution_context& context) : service(context) {
  if (const char* v = std::getenv("WATCHPOST_IO_URING"); v && std::string_view(v) == "0") return;
  io_uring_params params{};
  params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
  params.cq_entries = completion_entries;
  // SUBMIT_ALL needs Linux 5.18, the socket operation and cancelling by descriptor 5.19.
  if (io_uring_queue_init_params(submission_entries, &ring_, &params) != 0) return;
  io_uring_probe* probe = io_uring_get_probe_ring(&ring_);
  ok_ = probe && io_uring_opcode_supported(probe, IORING_OP_SOCKET);
  io_uring_free_probe(probe);
  if (!ok_) io_uring_queue_exit(&ring_);
}

probe_ring::~probe_ring() {
  if (!ok_) return;
  if (descriptor_) descriptor_->release();  // the ring's own descriptor: io_uring_queue_exit closes it
  io_uring_queue_exit(&ring_);
}

probe_ring* probe_ring::of(const asio::any_io_executor& executor) {
  const auto* io = executor.target<asio::io_context::executor_type>();
  if (!io) return nullptr;
  auto& ring = asio::use_service<probe_ring>(io->context());
  if (!ring.ok_) return nullptr;
  if (!ring.descriptor_) ring.descriptor_.emplace(io->context(), ring.ring_.ring_fd);
  return &ring;
}

void probe_ring::shutdown() {
  // A waiter holds its connection until its operation ends: they all end now (bounded), so no
  // connection outlives the io_context. Their coroutines go with it.
  for (int round = 0; ok_ && descriptor_ && in_flight_ != 0 && round < max_shutdown_rounds; ++round) {
    io_uring_prep_cancel64(next_sqe(), 0, IORING_ASYNC_CANCEL_ANY);
    io_uring_submit(&ring_);
    io_uring_cqe* cqe = nullptr;
    __kernel_timespec wait{0, 10'000'000};
    io_uring_wait_cqe_timeout(&ring_, &cqe, &wait);
    drain();
  }
  if (descriptor_) descriptor_->release();
  descriptor_.reset();
}

io_uring_sqe* probe_ring::next_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (!sqe) {  // a full queue goes now
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  if (!submit_posted_) {
    submit_posted_ = true;
    asio::post(descriptor_->get_executor(), [this] { submit(); });
  }
  return sqe;
}

io_uring_sqe* probe_ring::queue(waiter* w, unsigned tag) {
  io_uring_sqe* sqe = next_sqe();
  ++in_flight_;
  io_uring_sqe_set_data64(sqe, reinterpret_cast<std::uintptr_t>(w) | tag);
  return sqe;
}

void probe_ring::cancel_fd(int fd) {
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
  io_uring_sqe_set_data64(sqe, 0);
  sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

void probe_ring::close(int fd) {
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_close(sqe, fd);
  io_uring_sqe_set_data64(sqe, 0);
  sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

void probe_ring::submit() {
  submit_posted_ = false;
  io_uring_submit(&ring_);
  drain();  // what completed inside the call (a connect and send on loopback)
  watch();
}

void probe_ring::drain() {
  unsigned head = 0, seen = 0;
  io_uring_cqe* cqe = nullptr;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    ++seen;
    if (cqe->user_data == 0) continue;
    --in_flight_;
    auto* w = reinterpret_cast<waiter*>(cqe->user_data & ~tag_mask);
    w->completed(static_cast<unsigned>(cqe->user_data & tag_mask), cqe->res);
  }
  io_uring_cq_advance(&ring_, seen);
  // Nothing in flight: the wait would keep the io_context's run() from returning (fetch()).
  if (in_flight_ == 0 && watching_) descriptor_->cancel();
}

void probe_ring::watch() {
  if (watching_ || in_flight_ == 0) return;
  watching_ = true;
  descriptor_->async_wait(asio::posix::stream_descriptor::wait_read,
                          [this](const boost::system::error_code& ec) {
                            watching_ = false;
                            if (ec) return;  // shut down
                            drain();
                            watch();
                          });
}

}  // namespace watchpost::probes::detail
