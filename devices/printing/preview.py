"""PNG previews of tickets, for the kiosk's on-screen fallback and the admin page.

The preview draws the same blocks as the printer (:func:`~devices.printing.layout.ticket_blocks`)
with the same renderer as raster printing, and a real QR code, so what the screen shows
is what the paper shows.
"""

from __future__ import annotations

import io

from PIL import Image

from devices.printing.layout import DEFAULT_WIDTH_PX, Block, Cut, ticket_blocks
from devices.printing.render import render_blocks
from devices.printing.ticket import TicketPrint

#: White space above and below, so the preview looks like a torn-off ticket.
PAPER_MARGIN = 16


def render_blocks_image(blocks: list[Block], width: int = DEFAULT_WIDTH_PX) -> Image.Image:
    """Blocks to a white-paper image; the cut line at the end is left out."""
    while blocks and isinstance(blocks[-1], Cut):
        blocks = blocks[:-1]
    body = render_blocks(blocks, width)
    image = Image.new("L", (width, body.height + 2 * PAPER_MARGIN), 255)
    image.paste(body, (0, PAPER_MARGIN))
    return image


def render_preview(ticket: TicketPrint, width: int = DEFAULT_WIDTH_PX) -> Image.Image:
    """The ticket as a greyscale image ``width`` dots wide (576 = 80 mm paper)."""
    return render_blocks_image(ticket_blocks(ticket), width)


def png_bytes(image: Image.Image) -> bytes:
    """Encode an image as PNG."""
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def preview_png(ticket: TicketPrint, width: int = DEFAULT_WIDTH_PX) -> bytes:
    """The ticket preview as PNG bytes (e.g. for a Flask response, ``image/png``)."""
    return png_bytes(render_preview(ticket, width))
