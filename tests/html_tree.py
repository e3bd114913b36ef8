"""The dashboard's HTML parsed into a tree of nodes, for tests that read it: the parse fails on
an unclosed or mis-nested element."""
import dataclasses
import html.parser

VOID_TAGS = {'meta', 'input', 'br', 'img', 'link', 'hr', 'source', 'wbr'}


@dataclasses.dataclass
class Node:
  """An element of the parsed page: its tag, attributes and children (nodes and text)."""
  tag: str
  attrs: dict
  children: list = dataclasses.field(default_factory=list)

  def text(self) -> str:
    return ''.join(c if isinstance(c, str) else c.text() for c in self.children)

  def find_all(self, tag=None, **attrs):
    """Descendants with `tag` and attribute values; `class_` matches one class token."""
    found = []
    for child in self.children:
      if isinstance(child, str):
        continue
      wanted = tag in (None, child.tag) and all(
          (value in child.attrs.get('class', '').split()) if name == 'class_'
          else child.attrs.get(name.replace('_', '-')) == value for name, value in attrs.items())
      found += [child] if wanted else []
      found += child.find_all(tag, **attrs)
    return found

  def find(self, tag=None, **attrs):
    [node] = self.find_all(tag, **attrs)
    return node


class _TreeBuilder(html.parser.HTMLParser):

  def __init__(self):
    super().__init__()
    self.root = Node('root', {})
    self._open = [self.root]

  def handle_starttag(self, tag, attrs):
    node = Node(tag, {name: value or '' for name, value in attrs})
    self._open[-1].children.append(node)
    if tag not in VOID_TAGS:
      self._open.append(node)

  def handle_startendtag(self, tag, attrs):
    self._open[-1].children.append(Node(tag, {name: value or '' for name, value in attrs}))

  def handle_endtag(self, tag):
    assert self._open[-1].tag == tag, f'</{tag}> closes <{self._open[-1].tag}>'
    self._open.pop()

  def handle_data(self, data):
    self._open[-1].children.append(data)


def parse(text: str) -> Node:
  builder = _TreeBuilder()
  builder.feed(text)
  builder.close()
  assert builder._open == [builder.root], 'unclosed elements'  # pylint: disable=protected-access
  return builder.root
