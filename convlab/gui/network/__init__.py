"""The Network tab: every layer's feature maps and filters, enlarged on click."""
