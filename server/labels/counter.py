"""Labels of the counter staff page (server/templates/counter.html, static/js/counter/)."""

LABELS: dict[str, tuple[str, str]] = {
    # The hall connection (lib/hall.js statuses).
    "conn_connecting": ("Đang kết nối…", "Connecting…"),
    "conn_connected": ("Trực tuyến", "Online"),
    "conn_disconnected": ("Mất kết nối – đang thử lại…", "Offline – retrying…"),
    "conn_error": ("Không nhận được cập nhật – đang thử lại…", "No live updates – retrying…"),
    "conn_unavailable": (
        "Không có cập nhật trực tiếp: hãy tải lại trang",
        "No live updates: reload the page",
    ),
    # Session.
    "expired": (
        "Phiên đăng nhập đã hết hạn hoặc không còn hiệu lực. Vui lòng đăng nhập lại.",
        "Your session has expired. Please log in again.",
    ),
    "logged_out": ("Đã đăng xuất.", "Logged out."),
    "page_error": (
        "Đã xảy ra lỗi trên trang. Vui lòng tải lại trang.",
        "Something went wrong on the page. Please reload it.",
    ),
    # Choosing a counter.
    "counter_open": ("Đang mở", "Open"),
    "counter_paused": ("Tạm dừng", "Paused"),
    "counter_closed": ("Đã đóng", "Closed"),
    "held_by_nobody": ("Chưa có cán bộ phụ trách", "Nobody at this counter"),
    "held_by_you": ("Bạn đang phụ trách", "Yours"),
    "held_by": ("{name} đang phụ trách", "{name} works here"),
    "held_by_other": (
        "{counter} đang do cán bộ khác phụ trách.",
        "{counter} is operated by someone else.",
    ),
    "taken_by": ("{counter} vừa được giao cho {name}.", "{counter} was taken by {name}."),
    "someone": ("cán bộ khác", "someone else"),
    "last_time": ("Lần trước", "Last time"),
    "people_waiting": ("{count} người chờ", "{count} waiting"),
    "enter": ("Vào quầy", "Enter"),
    "open_it": ("Mở quầy", "Open"),
    # The ticket at the counter.
    "ticket_waiting": ("Đang chờ", "Waiting"),
    "ticket_called": ("Đã gọi", "Called"),
    "ticket_serving": ("Đang phục vụ", "Serving"),
    "ticket_done": ("Đã xong", "Done"),
    "ticket_no_show": ("Vắng mặt", "Absent"),
    "ticket_cancelled": ("Đã hủy (trung tâm nghỉ)", "Cancelled (centre closed)"),
    "no_ticket": ("Chưa có phiếu", "No ticket"),
    "press_next": ("Bấm «Gọi số tiếp theo» để mời công dân.", "Press “Call next”."),
    "called_at": ("Gọi lúc {time}", "Called at {time}"),
    "started_at": ("Bắt đầu phục vụ lúc {time}", "Started at {time}"),
    "calls": ("đã gọi {count} lần", "called {count} times"),
    "calls_of": ("Đã gọi {count}/{max} lần", "Called {count} of {max} times"),
    "next_marks_absent": (
        "bấm «Gọi số tiếp theo» sẽ ghi vắng mặt",
        "“Call next” will mark the citizen absent",
    ),
    "marked_absent": (
        "Công dân số {number} đã được ghi vắng mặt sau {count} lần gọi.",
        "Number {number} was marked absent after {count} calls.",
    ),
    "last_ticket": ("Phiếu trước: {number} – {status}", "Previous: {number} – {status}"),
    "last_moved": (" (chuyển sang «{service}»)", " (moved to “{service}”)"),
    "outcome_served": ("Đã giải quyết", "Served"),
    "outcome_supplement": ("Hẹn bổ sung hồ sơ", "Needs supplement"),
    "outcome_redirected": ("Hướng dẫn sang nơi khác", "Redirected"),
    "outcome_left": ("Công dân đã về", "Citizen left"),
    # Transfer, pause.
    "served_at": ("Quầy {counters}", "Counter {counters}"),
    "served_nowhere": ("Chưa có quầy phục vụ", "No counter serves it"),
    "transferred": (
        "Đã chuyển phiếu {number} sang «{service}». Phiếu giữ thứ tự theo giờ lấy số.",
        "Number {number} moved to “{service}”; it keeps its place by issue time.",
    ),
    "pause_other": ("Khác", "Other"),
    # Today's no-shows.
    "call_back": ("Gọi lại", "Call again"),
    "call_back_label": ("Gọi lại: số {number}", "Call number {number} again"),
    "requeue": ("Xếp lại hàng", "Back in line"),
    "requeue_label": ("Xếp lại hàng: số {number}", "Put number {number} back in line"),
    "requeued": (
        "Đã xếp phiếu {number} trở lại hàng chờ theo giờ lấy số.",
        "Number {number} is back in line at its place.",
    ),
    "last_called_at": ("gọi lần cuối {time}", "last called {time}"),
    # A citizen's rating.
    "rated": ("Công dân đã đánh giá: {label}", "The citizen rated: {label}"),
    "rating_level": ("mức {level}", "level {level}"),
    "rated_ticket": ("Phiếu {number}", "Ticket {number}"),
    "rated_counter": ("Đánh giá chung của quầy", "For the counter"),
    "rated_again": (" · thay cho lần bấm trước", " · replaces the previous press"),
}
