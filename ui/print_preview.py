"""On-demand preview of a document before (or instead of) printing it.

Never on the bench's happy path: the packer prints without a dialog. Desk staff and a supervisor
checking a template use this. Pages are rasterised by pdfium at screen resolution
(:func:`ui.print_qt.preview_pdf`).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QScrollArea, QVBoxLayout, QWidget

from core.i18n import _
from ui.print_qt import preview_pdf


class PrintPreviewDialog(QDialog):
    """Shows every page of a PDF, one under the other, in a scroll area."""

    def __init__(self, pdf: bytes, parent: QWidget | None = None, *, title: str | None = None,
                 dpi: float = 110) -> None:
        super().__init__(parent)
        self.setObjectName("printPreview")
        self.setWindowTitle(title or _("Print preview"))
        self.pages = preview_pdf(pdf, dpi)
        body = QWidget()
        col = QVBoxLayout(body)
        for i, image in enumerate(self.pages, 1):
            page = QLabel()
            page.setPixmap(QPixmap.fromImage(image))
            page.setStyleSheet("background: white; border: 1px solid #90a4ae;")
            col.addWidget(page, 0, Qt.AlignmentFlag.AlignHCenter)
            caption = QLabel(_("Page {n} of {total}").format(n=i, total=len(self.pages)))
            col.addWidget(caption, 0, Qt.AlignmentFlag.AlignHCenter)
        scroll = QScrollArea()
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        width = max((img.width() for img in self.pages), default=400)
        self.resize(min(width + 60, 1000), 760)
