"""A titled part of the dashboard page."""
import dataclasses


@dataclasses.dataclass(frozen=True)
class Section:
  """A titled part of the page, after the built-in ones. `html` goes in as it is: escape
  any text in it (formatting.escape)."""
  title: str
  html: str

  @property
  def anchor(self) -> str:
    return 'section-' + ''.join(c if c.isalnum() else '-' for c in self.title.lower())
