"""Texts of the citizen's ticket page /t/<code> (server/static/js/ticket.js)."""

LABELS = {
    "waiting": ("Đang chờ đến lượt", "Waiting for your turn"),
    "called": ("Đã đến lượt – mời quý khách đến quầy", "It's your turn – please go to the counter"),
    "serving": ("Đang được phục vụ", "Being served"),
    "done": ("Đã hoàn thành. Cảm ơn quý khách!", "Done. Thank you!"),
    "no_show": (
        "Quý khách đã được mời nhưng không có mặt. Vui lòng liên hệ cán bộ tại quầy.",
        "You were called but not present. Please ask at a counter.",
    ),
    "cancelled": (
        "Số này đã bị hủy do trung tâm tạm nghỉ hôm nay. Vui lòng lấy số vào ngày làm việc khác.",
        "This number was cancelled: the centre is closed today. Please come another working day.",
    ),
    "go_to": ("Mời đến {counter}", "Please go to {counter}"),
    "ahead": ("Số người chờ trước", "People waiting ahead"),
    "estimate": ("Thời gian chờ dự kiến", "Expected wait"),
    "issued": ("Giờ lấy số: {time}", "Issued at {time}"),
    "live": ("Trang tự cập nhật ngay khi có thay đổi", "This page updates itself as things change"),
    "offline": ("Mất kết nối, đang thử lại…", "Connection lost, retrying…"),
    "sound_on": ("Bật âm báo khi đến lượt", "Sound an alert at my turn"),
    "sound_ready": ("Âm báo đã bật", "Alert sound is on"),
}
