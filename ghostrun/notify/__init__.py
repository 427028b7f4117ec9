"""Desktop notifications of run results (DESIGN §5): one per save, updated as stages finish.

`Notifier` delivers through desktop-notifier, else notify-send, else the log; the wording
functions turn a stage or a failure into a `Message`.
"""

from ghostrun.notify.message import Message
from ghostrun.notify.notifier import MODES, Notifier
from ghostrun.notify.wording import failure_message, is_approximate, stage_message

__all__ = ["MODES", "Message", "Notifier", "failure_message", "is_approximate", "stage_message"]
