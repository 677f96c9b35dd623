"""Texts of the kiosk pages (kiosk/static/js): Vietnamese first, English second."""

LABELS = {
    "loading": ("Đang tải, quý khách vui lòng chờ…", "Loading, please wait…"),
    "network": (
        "Xin lỗi, kết nối đang tạm gián đoạn. Quý khách vui lòng thử lại sau giây lát.",
        "Sorry, the connection is interrupted. Please try again in a moment.",
    ),
    "busy": (
        "Xin lỗi, hệ thống đang bận. Quý khách vui lòng thử lại.",
        "Sorry, the system is busy. Please try again.",
    ),
    "retrying": ("Đang thử lại, quý khách vui lòng chờ…", "Trying again, please wait…"),
    "retry_failed": (
        "Xin lỗi, chưa kết nối được với hệ thống. Quý khách vui lòng bấm «Thử lại» hoặc hỏi "
        "bàn hướng dẫn: bấm lại không cấp thêm số thứ hai.",
        "Sorry, the system cannot be reached. Please press «Try again» or ask at the "
        "information desk: pressing again never gives you a second number.",
    ),
    "catalog_failed": (
        "Xin lỗi, chưa tải được danh sách dịch vụ. Quý khách vui lòng thử lại sau giây lát.",
        "Sorry, the list of services could not be loaded. Please try again in a moment.",
    ),
    "exhausted_title": ("Dịch vụ này đã hết số thứ tự", "No more numbers for this service"),
    "exhausted": (
        "Hôm nay dịch vụ «{service}» đã phát hết số thứ tự. Quý khách vui lòng đến bàn "
        "hướng dẫn để được hỗ trợ, hoặc quay lại vào ngày làm việc tiếp theo.",
        "All of today's numbers for «{service}» have been given out. Please ask at the "
        "information desk, or come back on the next working day.",
    ),
    "refused_title": ("Chưa lấy được số thứ tự", "No ticket was issued"),
    # Hours, cut-offs and caps (docs/hours.md): the refusal's title, and the line a greyed
    # service shows on the list; the server's message says when to come back.
    "closed_title": ("Ngoài giờ làm việc", "Outside working hours"),
    "day_off_title": ("Hôm nay là ngày nghỉ", "Today is a day off"),
    "closure_title": ("Hôm nay trung tâm nghỉ", "The centre is closed today"),
    "cutoff_title": ("Đã hết giờ cấp số hôm nay", "Issuing has ended for today"),
    "full_title": ("Hết số hôm nay", "No numbers left today"),
    "closed_short": ("Ngoài giờ cấp số", "Not issuing now"),
    "day_off_short": ("Ngày nghỉ", "Day off"),
    "closure_short": ("Trung tâm nghỉ hôm nay", "Centre closed today"),
    "cutoff_short": ("Đã hết giờ cấp số", "Issuing ended"),
    "full_short": ("Hết số hôm nay", "No numbers left today"),
    "remote_only_title": ("Chỉ lấy số qua điện thoại", "Numbers by phone only"),
    "remote_only_short": ("Lấy số qua điện thoại", "By phone only"),
    "opens_at": ("Mở lại: {when}", "Opens: {when}"),
    # Numbers from the phone: the check-in at the kiosk (docs/remote.md).
    "checkin_title": ("Không xác nhận được mã", "The code was not accepted"),
    "checkin_unknown": (
        "Không tìm thấy số thứ tự hôm nay hay lịch hẹn với mã này. Quý khách vui lòng kiểm "
        "tra lại mã.",
        "No number of today or appointment has this code. Please check the code.",
    ),
    "checkin_short": (
        "Mã xác nhận gồm 6 chữ số (mã lịch hẹn: 10 chữ số)",
        "The code has six digits (an appointment's: ten)",
    ),
    "bulk_lane": (
        "Dành cho tổ chức, doanh nghiệp nộp nhiều hồ sơ",
        "For organisations and businesses filing many dossiers",
    ),
    "scan_title": ("Không đọc được mã", "The code could not be read"),
    "scan_unprovisioned": (
        "Ki-ốt này chưa được kích hoạt nên chưa đọc được thẻ căn cước. Quý khách vui lòng "
        "chọn dịch vụ để lấy số.",
        "This kiosk is not set up to read ID cards. Please choose a service to get a number.",
    ),
    "idcard_number": ("Số thẻ: {number}", "Card number: {number}"),
    "idcard_linked": (
        "Số thứ tự sẽ gắn với thẻ căn cước của {name}",
        "Your number will be linked to the ID card of {name}",
    ),
    # Know what to bring: a service's procedures and their papers, printed or on a phone.
    "papers_title": ("Giấy tờ cần mang: {service}", "What to bring: {service}"),
    "papers_printing": ("Đang in danh sách giấy tờ…", "Printing the list…"),
    "papers_printed": ("Mời quý khách nhận danh sách giấy tờ", "Please take your list"),
    "papers_failed": (
        "Máy in chưa in được, quý khách vui lòng quét mã QR để xem trên điện thoại",
        "The printer could not print it: please scan the QR code to read it on a phone",
    ),
    "papers_failed_no_qr": (
        "Máy in chưa in được, quý khách vui lòng ghi lại danh sách trên màn hình",
        "The printer could not print it: please note the list on the screen",
    ),
    "remaining": ("Còn {n} số", "{n} numbers left"),
    "weekdays": (
        "Chủ Nhật|Thứ Hai|Thứ Ba|Thứ Tư|Thứ Năm|Thứ Sáu|Thứ Bảy",
        "Sunday|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday",
    ),
    "priority": ("Ưu tiên: {name}", "Priority: {name}"),
    "counters": ("Mời đến: {counters}", "Go to: {counters}"),
    "ahead": ("Số người chờ trước: {n}", "People waiting ahead: {n}"),
    "estimate": ("Thời gian chờ dự kiến: {text}", "Expected wait: {text}"),
    "print_pending": ("Đang in phiếu…", "Printing your ticket…"),
    "print_ok": ("Mời quý khách nhận phiếu", "Please take your ticket"),
    "print_failed_qr": (
        "Máy in đang gặp sự cố, quý khách vui lòng ghi nhớ số hoặc chụp ảnh mã QR",
        "The printer has a problem: please remember your number or take a photo of the QR code",
    ),
    "print_failed": (
        "Máy in đang gặp sự cố, quý khách vui lòng ghi nhớ số thứ tự",
        "The printer has a problem: please remember your number",
    ),
    "qr_alt": (
        "Mã QR để theo dõi số thứ tự trên điện thoại",
        "QR code to follow your number on a phone",
    ),
    "idle": (
        "Màn hình sẽ trở về trang đầu sau {n} giây",
        "This screen returns to the start in {n} s",
    ),
    "idle_stay": ("Chạm vào đây để tiếp tục", "Touch here to continue"),
    "kb_space": ("Dấu cách", "Space"),
    "kb_delete": ("Xóa", "Delete"),
    "kb_clear": ("Xóa hết", "Clear"),
    "kb_done": ("Xong", "Done"),
    "kb_tone_acute": ("Dấu sắc", "Acute"),
    "kb_tone_grave": ("Dấu huyền", "Grave"),
    "kb_tone_hook": ("Dấu hỏi", "Hook"),
    "kb_tone_tilde": ("Dấu ngã", "Tilde"),
    "kb_tone_dot": ("Dấu nặng", "Dot below"),
    "kb_hint": (
        "Chạm giữ một nguyên âm để chọn dấu",
        "Touch and hold a vowel for its accents",
    ),
    "search_empty": (
        "Không tìm thấy thủ tục phù hợp. Quý khách thử từ khóa khác hoặc hỏi cán bộ hướng dẫn.",
        "No procedure found. Try other words or ask at the information desk.",
    ),
    "search_results": ("Kết quả cho «{q}»", "Results for “{q}”"),
    "procedures_count": ("{n} thủ tục", "{n} procedures"),
    "no_fee": ("Không thu phí", "Free"),
    "paper_counts": (
        "{originals} bản chính, {copies} bản sao",
        "{originals} original, {copies} copy",
    ),
    "feedback_short": (
        "Vui lòng ghi nội dung phản ánh (ít nhất 5 ký tự).",
        "Please write your message (at least 5 characters).",
    ),
    "feedback_phone_needed": (
        "Vui lòng nhập họ tên hoặc số điện thoại để Trung tâm liên hệ, hoặc chọn «Không để lại».",
        "Please enter a name or phone number, or choose “Stay anonymous”.",
    ),
    "feedback_contact_yes": (
        "Trung tâm sẽ liên hệ với quý khách theo thông tin đã cung cấp.",
        "The centre will contact you with the details you gave.",
    ),
    "feedback_contact_no": (
        "Quý khách không để lại thông tin liên hệ; vui lòng giữ mã phản ánh để hỏi kết quả.",
        "You left no contact details: keep the reference to ask about the answer.",
    ),
    "not_remembered": ("Không nhớ", "Don't remember"),
    "none": ("Không chọn", "None"),
}
