"""The widget module."""


def spin(times, fast=False):
    """Spin the widget.

    Args:
        times (int): how many turns.
        fast (bool): skip the slow checks.

    Returns:
        str: a report of the spinning.
    """
    return "spun %d" % times


class Gadget:
    """A gadget holds widgets."""

    def add(self, widget):
        """Add *widget* to the gadget."""
