"""Phone numbers as people see and search them: one masking rule, one search rule.

Why here: a packer saw the buyer's full number in the detail pane and a masked one on the label and
in the exception dialog. A buyer's number is personal data that travels through many hands, so
everywhere a packer or a label shows it, it is masked the way Chinese platforms print it
(``138****5678``); only the dialog that needs to call the buyer (the rural / no-phone and
delivery-failed playbooks) lets the desk copy the full number.

Search matches the *tail* of a number (what a buyer reads out: "尾号 5678"), as the hub's
``GET /api/v1/orders?q=`` does (docs/api.md): "1422" does not find 185-9214-2232.
"""

from __future__ import annotations

import re

__all__ = ["MIN_TAIL", "is_phone_needle", "mask_phone", "phone_digits", "tail_matches"]

_DIGITS = re.compile(r"\d")
_NOT_DIGITS = re.compile(r"\D")

#: The shortest digit string that searches phone numbers (the hub indexes the last 4 digits).
MIN_TAIL = 4


def mask_phone(phone: str) -> str:
    """Mask a phone number for display and print: ``13812341234`` → ``138****1234``.

    Chinese platforms print the middle four digits masked. A number the channel already masked
    (contains ``*``) is kept; a landline keeps its area code, last four digits and extension
    (``010-****5678``, ``0991-***4567-123``); an extension after a mobile number is kept, since
    virtual numbers need it. Anything shorter than 7 digits is shown as given.
    """
    phone = phone.strip()
    if not phone or "*" in phone:
        return phone
    main, sep, ext = phone.partition("-") if re.fullmatch(r"1\d{10}-\d{1,6}", phone) else (phone, "", "")
    digits = _NOT_DIGITS.sub("", main)
    if re.fullmatch(r"(\+?86)?1\d{10}", digits):
        core = digits[-11:]
        return f"{core[:3]}****{core[-4:]}" + (sep + ext if ext else "")
    landline = re.fullmatch(r"(\(?0\d{2,3}\)?[\s-]?)(\d{7,8})([-转#]\d{1,6})?", phone)
    if landline:  # 010-12345678, 0991-1234567-123: keep area code and extension
        area, number, extension = landline.group(1), landline.group(2), landline.group(3) or ""
        return f"{area}{'*' * (len(number) - 4)}{number[-4:]}{extension}"
    if len(digits) < 7:
        return phone
    # Anything else: mask the four digits before the last four, keep the layout.
    positions = [m.start() for m in _DIGITS.finditer(main)]
    hide = set(positions[-8:-4])
    return "".join("*" if i in hide else ch for i, ch in enumerate(main)) + (sep + ext if ext else "")


def phone_digits(phone: str) -> str:
    """The digits of a number (``139-0000-4321`` → ``13900004321``), as search keeps it."""
    return _NOT_DIGITS.sub("", phone)


def is_phone_needle(needle: str) -> bool:
    """Whether a search text looks for phone numbers too: 4 digits or more."""
    return len(needle) >= MIN_TAIL and needle.isdigit()


def tail_matches(digits: str, needle: str) -> bool:
    """Whether a search ``needle`` finds the number ``digits``: at least 4 digits, at its end."""
    return is_phone_needle(needle) and bool(digits) and digits.endswith(needle)
