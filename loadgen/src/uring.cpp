#include "uring.hpp"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string_view>

#include "watchpost/common/errno_text.hpp"

namespace watchpost::loadgen {

namespace {

constexpr unsigned buffer_size = 2048;  // a small response in one completion
constexpr unsigned short buffer_group = 0;
// How late a batched wait (run_once) may hand over a completion.
constexpr unsigned batch_wait_us = 50;
// Linux 6.12's minimum wait (io_uring_getevents_arg::min_wait_usec); liburing 2.3 predates it.
constexpr unsigned feat_min_timeout = 1U << 15;
constexpr std::uint64_t untagged = ~std::uint64_t{0};  // cancels and closes: nobody waits for them

unsigned pow2_within(std::size_t n, unsigned low, unsigned high) {
  return static_cast<unsigned>(
      std::clamp<std::size_t>(std::bit_ceil(std::max<std::size_t>(n, 1)), low, high));
}

// liburing 2.3 declares io_uring_enable_rings() but does not export it.
int enable_rings(io_uring& ring) {
  return syscall(__NR_io_uring_register, ring.ring_fd, IORING_REGISTER_ENABLE_RINGS, nullptr, 0) == 0
             ? 0
             : -errno;
}

// Why the kernel said no, when the administrator switched io_uring off.
std::string disabled_note() {
  std::ifstream in("/proc/sys/kernel/io_uring_disabled");
  int value = 0;
  if (in >> value && value != 0) return " (kernel.io_uring_disabled=" + std::to_string(value) + ")";
  return "";
}

}  // namespace

uring::uring(std::size_t connections, bool probe) {
  if (const char* v = std::getenv("WATCHPOST_IO_URING"); !probe && v && std::string_view(v) == "late")
    throw setup_error("io_uring setup refused by WATCHPOST_IO_URING=late");
  // Every connection has at most a connect, a send, a receive and a cancel and close pending;
  // a multishot receive adds one completion per buffer it fills. Sized so the completion queue
  // does not overflow (the kernel would keep the excess, at a cost).
  // A buffer per 4 connections (0.5 KiB each: every buffer's pages end up resident): a turn in
  // which more responses arrive than there are buffers re-arms the rest (ENOBUFS loses nothing).
  buffer_count_ = pow2_within(connections / 4, 64, 4096);
  io_uring_params params{};
  params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER |
                 IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED;
  params.cq_entries = pow2_within(buffer_count_ + 4 * connections, 1024, 65536);
  if (const int rc = io_uring_queue_init_params(pow2_within(2 * connections, 256, 4096), &ring_, &params);
      rc < 0)
    throw setup_error(errno_text("io_uring_queue_init", -rc) +
                      (rc == -EINVAL ? " (DEFER_TASKRUN needs Linux 6.1+)" : disabled_note()));
  min_timeout_ = (params.features & feat_min_timeout) != 0;
  buffer_ring_bytes_ = buffer_count_ * sizeof(io_uring_buf);
  void* ring_memory =
      mmap(nullptr, buffer_ring_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (ring_memory == MAP_FAILED) {
    io_uring_queue_exit(&ring_);
    throw setup_error(errno_text("mmap", errno));
  }
  buffer_ring_ = static_cast<io_uring_buf_ring*>(ring_memory);
  io_uring_buf_ring_init(buffer_ring_);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(ring_memory);
  reg.ring_entries = buffer_count_;
  reg.bgid = buffer_group;
  if (const int rc = io_uring_register_buf_ring(&ring_, &reg, 0); rc < 0) {
    io_uring_queue_exit(&ring_);
    munmap(ring_memory, buffer_ring_bytes_);
    throw setup_error(errno_text("io_uring_register_buf_ring", -rc));
  }
  buffers_.reset(new char[std::size_t{buffer_count_} * buffer_size]);
  const int mask = io_uring_buf_ring_mask(buffer_count_);
  for (unsigned i = 0; i < buffer_count_; ++i)
    io_uring_buf_ring_add(buffer_ring_, buffers_.get() + std::size_t{i} * buffer_size, buffer_size,
                          static_cast<unsigned short>(i), mask, static_cast<int>(i));
  io_uring_buf_ring_advance(buffer_ring_, static_cast<int>(buffer_count_));
}

uring::~uring() {
  io_uring_queue_exit(&ring_);  // cancels what is still pending
  munmap(buffer_ring_, buffer_ring_bytes_);
}

std::string uring::unavailable() {
  if (const char* v = std::getenv("WATCHPOST_IO_URING"); v && std::string_view(v) == "0")
    return "io_uring refused by WATCHPOST_IO_URING=0";
  try {
    uring probe(1, true);
    if (const int rc = enable_rings(probe.ring_); rc < 0) return errno_text("io_uring_enable_rings", -rc);
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return errno_text("socketpair", errno);
    io_uring_sqe* sqe = io_uring_get_sqe(&probe.ring_);
    io_uring_prep_recv_multishot(sqe, pair[0], nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = buffer_group;
    io_uring_submit(&probe.ring_);
    const bool wrote = write(pair[1], "x", 1) == 1;
    io_uring_cqe* cqe = nullptr;
    __kernel_timespec limit{1, 0};
    const int rc = wrote ? io_uring_wait_cqe_timeout(&probe.ring_, &cqe, &limit) : -EIO;
    const bool works =
        rc == 0 && cqe->res == 1 && (cqe->flags & IORING_CQE_F_MORE) && (cqe->flags & IORING_CQE_F_BUFFER);
    ::close(pair[0]);
    ::close(pair[1]);
    if (!works) return "io_uring lacks multishot receive into provided buffers (Linux 6.0+)";
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

void uring::start(handler h, void* owner) {
  handler_ = h;
  owner_ = owner;
  // The probe (unavailable()) enabled a ring of the same kind: this does not fail in practice.
  if (const int rc = enable_rings(ring_); rc < 0)
    throw std::runtime_error(errno_text("io_uring_enable_rings", -rc));
}

void uring::run_once(std::chrono::steady_clock::time_point until, unsigned batch) {
  const auto left =
      std::max(until - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration{0});
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
  __kernel_timespec wait{ns / 1'000'000'000, ns % 1'000'000'000};
  // What the last turn queued goes with the wait: liburing's flush, which 2.3 keeps private (its
  // submit_and_wait_timeout cannot pass the minimum wait).
  const unsigned submit = ring_.sq.sqe_tail - ring_.sq.sqe_head;
  if (submit != 0) {
    ring_.sq.sqe_head = ring_.sq.sqe_tail;
    io_uring_smp_store_release(ring_.sq.ktail, ring_.sq.sqe_tail);
  }
  io_uring_getevents_arg arg{};
  arg.ts = reinterpret_cast<std::uintptr_t>(&wait);
  unsigned want = 1;
  if (batch > 1 && min_timeout_) {
    // The kernel wakes this thread once `batch` completions are in (DEFER_TASKRUN counts them
    // without waking it), or after batch_wait_us with at least one: fewer sleeps and wake-ups
    // per response, each timed at most that much late. `pad` is min_wait_usec since 6.12.
    want = batch;
    arg.pad = batch_wait_us;
  }
  if (io_uring_cq_ready(&ring_) != 0) want = 0;  // the last turn's budget left some: no waiting
  // -ETIME: the tick is due.
  syscall(__NR_io_uring_enter, ring_.ring_fd, submit, want, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
          &arg, sizeof arg);
  // Bounded, so that the clock (ticks, deadlines, the end of the run) is looked at behind a fast
  // endless body too.
  drain(4 * buffer_count_);
}

io_uring_sqe* uring::next_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (!sqe) {  // a full submission queue (10,000 connects at the start) goes now
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

unsigned uring::drain(unsigned budget) {
  const int mask = io_uring_buf_ring_mask(buffer_count_);
  unsigned head = 0, seen = 0;
  int recycled = 0;
  io_uring_cqe* cqe = nullptr;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    if (seen == budget) break;
    ++seen;
    completion c{cqe->user_data, cqe->res, nullptr, (cqe->flags & IORING_CQE_F_MORE) != 0};
    char* buffer = nullptr;
    unsigned short id = 0;
    if (cqe->flags & IORING_CQE_F_BUFFER) {
      id = static_cast<unsigned short>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
      buffer = buffers_.get() + std::size_t{id} * buffer_size;
      c.data = buffer;
    }
    if (c.tag != untagged) handler_(owner_, c);
    if (buffer) io_uring_buf_ring_add(buffer_ring_, buffer, buffer_size, id, mask, recycled++);
  }
  io_uring_buf_ring_advance(buffer_ring_, recycled);
  io_uring_cq_advance(&ring_, seen);
  return seen;
}

void uring::timeout(const __kernel_timespec& at, std::uint64_t tag) {
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_timeout(sqe, const_cast<__kernel_timespec*>(&at), 0, IORING_TIMEOUT_ABS);  // steady_clock's
  io_uring_sqe_set_data64(sqe, tag);
}

void uring::connect(int fd, const sockaddr* address, socklen_t size, std::uint64_t tag) {
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_connect(sqe, fd, address, size);
  io_uring_sqe_set_data64(sqe, tag);
}

void uring::send(int fd, const char* data, std::size_t size, std::uint64_t tag) {
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_send(sqe, fd, data, size, MSG_NOSIGNAL);  // a reset peer is an error, not SIGPIPE
  io_uring_sqe_set_data64(sqe, tag);
}

void uring::receive(int fd, std::uint64_t tag) {
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = buffer_group;
  io_uring_sqe_set_data64(sqe, tag);
}

void uring::cancel(std::uint64_t tag) {
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_cancel64(sqe, tag, 0);
  io_uring_sqe_set_data64(sqe, untagged);
  sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

void uring::close(int fd) {
  io_uring_sqe* close = next_sqe();
  io_uring_prep_close(close, fd);
  io_uring_sqe_set_data64(close, untagged);
  close->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

}  // namespace watchpost::loadgen
