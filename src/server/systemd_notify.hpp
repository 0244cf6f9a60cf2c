#pragma once
#include <string_view>

namespace boltauth::server {

/// sd_notify(3) without libsystemd: sends `state` ("READY=1", "STOPPING=1", ...) as one datagram to the socket
/// systemd names in NOTIFY_SOCKET (a path, or an abstract name starting with '@'), so a `Type=notify` unit is
/// reported started only once the server listens, and stopping while it drains. Without NOTIFY_SOCKET (not run by
/// systemd) it does nothing. Returns false when the socket is named but the message could not be sent.
bool notify_systemd(std::string_view state) noexcept;

}  // namespace boltauth::server
