// One data-path thread of the agent: its event loop, and what its connections share without locks.
// Every pod's listeners hand their connections to the workers in turn; a connection then stays on
// its worker, so nothing it touches is shared with another thread but atomics and snapshots.
#pragma once

#include <utility>  // before asio: Boost 1.74 needs it

#include <cstddef>

#include <boost/asio/io_context.hpp>

#include "agent/relay/outbound.h"

namespace ambit::agent {

struct Worker {
  Worker(size_t index_in, boost::asio::io_context& io_in) : index(index_in), io(io_in) {}
  const size_t index;
  boost::asio::io_context& io;  // run by this worker's thread only
  EndpointPicker picker;        // round robin of this worker's connections
};

}  // namespace ambit::agent
