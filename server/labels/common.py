"""Labels every page may need: connection states and the errors of ``lib/api.js``."""

LABELS: dict[str, tuple[str, str]] = {
    "network_error": (
        "Xin lỗi, kết nối đang tạm gián đoạn. Vui lòng thử lại sau giây lát.",
        "Sorry, the connection is interrupted. Please try again in a moment.",
    ),
    "server_error": (
        "Xin lỗi, hệ thống đang bận. Vui lòng thử lại.",
        "Sorry, the system is busy. Please try again.",
    ),
    "timeout": (
        "Máy chủ không trả lời kịp. Vui lòng thử lại.",
        "The server did not answer in time. Please try again.",
    ),
    "connected": ("đã kết nối", "connected"),
    "connecting": ("đang kết nối", "connecting"),
    "disconnected": ("mất kết nối", "disconnected"),
    "connection_error": ("lỗi kết nối", "connection error"),
}
