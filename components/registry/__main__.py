"""Filesystem registry commands: `python -m components.registry COMMAND --registry DIR ...`.

  list      [--model NAME]                    the models, or one model's versions and aliases
  show      --model NAME (--version N | --alias A)   a version's files beside the SavedModel
                                                     (e.g. tflite/) and its model card
  promote   --model NAME --alias A --version N       point an alias at a version
  rollback  --model NAME --alias A                   point it back at its previous version
  gc        [--model NAME] [--older_than_hours H]    remove staging dirs of crashed publishes

`--json` prints the result as JSON. Errors (unknown model, version or alias, a name that is
not simple, nothing to roll back to) go to stderr and exit with status 2.
"""
import argparse
import dataclasses
import json
import sys
from typing import Any, Dict, List, Optional, Tuple

import tensorflow as tf

from components.registry import names
from components.registry.filesystem import FilesystemRegistry, NotFoundError

Result = Tuple[Dict[str, Any], List[str]]  # (what --json prints, the lines printed otherwise)


def _version_arg(text: str) -> int:
  try:
    return names.parse_version(text)
  except ValueError as error:
    raise argparse.ArgumentTypeError(str(error)) from error


def _aliases_of(aliases: Dict[str, int], number: int) -> List[str]:
  return sorted(alias for alias, version in aliases.items() if version == number)


def _list(registry: FilesystemRegistry, args: argparse.Namespace) -> Result:
  if args.model is None:
    models = [{'model': m, 'versions': [v.number for v in registry.list_versions(m)],
               'aliases': registry.aliases(m)} for m in registry.models()]
    return {'models': models}, [
        f"{m['model']}  versions: {len(m['versions'])}  latest: "
        f"{max(m['versions'], default='-')}  aliases: "
        f"{' '.join(f'{a}={v}' for a, v in m['aliases'].items()) or '-'}" for m in models]
  aliases = registry.aliases(args.model)
  versions = []
  for version in registry.list_versions(args.model):
    card = registry.show(args.model, version.number)
    versions.append({'version': version.number, 'uri': version.uri, 'created_at': card.created_at,
                     'blessed': card.blessed, 'metrics': card.metrics,
                     'aliases': _aliases_of(aliases, version.number)})
  return {'model': args.model, 'versions': versions, 'aliases': aliases}, [
      f"{v['version']}  {v['created_at']}  {'blessed' if v['blessed'] else 'not blessed'}  "
      + ' '.join(f'{k}={m:.4g}' for k, m in sorted(v['metrics'].items()))
      + (f"  [{', '.join(v['aliases'])}]" if v['aliases'] else '') for v in versions]


def _show(registry: FilesystemRegistry, args: argparse.Namespace) -> Result:
  version = (registry.resolve(args.model, args.alias) if args.alias
             else registry.version(args.model, args.version))
  card = registry.show(args.model, version.number)
  aliases = _aliases_of(registry.aliases(args.model), version.number)
  added = registry.added_files(args.model, version.number)
  return ({'model': args.model, 'version': version.number, 'uri': version.uri,
           'aliases': aliases, 'files': added, 'card': dataclasses.asdict(card)},
          [f'{args.model} version {version.number} at {version.uri}  '
           f'aliases: {", ".join(aliases) or "-"}']
          + [f'  {path}  {size:,d} bytes' for path, size in added.items()] + [card.to_json()])


def _moved(args: argparse.Namespace, version) -> Result:
  return ({'model': args.model, 'alias': args.alias, 'version': version.number,
           'uri': version.uri}, [f'{args.model} {args.alias} -> {version.number} ({version.uri})'])


def _promote(registry: FilesystemRegistry, args: argparse.Namespace) -> Result:
  return _moved(args, registry.promote(args.model, args.alias, args.version))


def _rollback(registry: FilesystemRegistry, args: argparse.Namespace) -> Result:
  return _moved(args, registry.rollback(args.model, args.alias))


def _gc(registry: FilesystemRegistry, args: argparse.Namespace) -> Result:
  removed = registry.gc(args.older_than_hours * 3600, model_name=args.model)
  return {'removed': removed}, [f'removed {path}' for path in removed] or ['nothing to remove']


_COMMANDS = {'list': _list, 'show': _show, 'promote': _promote, 'rollback': _rollback,
             'gc': _gc}


def _parser() -> argparse.ArgumentParser:
  common = argparse.ArgumentParser(add_help=False)
  common.add_argument('--registry', required=True, help='The registry root: a path or gs://.')
  common.add_argument('--json', action='store_true', help='Print the result as JSON.')
  parser = argparse.ArgumentParser(prog='python -m components.registry',
                                   description=__doc__.split('\n\n')[0])
  commands = parser.add_subparsers(dest='command', required=True)
  commands.add_parser('list', parents=[common], help='models, or versions of --model') \
      .add_argument('--model', help='A model name.')
  show = commands.add_parser('show', parents=[common], help="a version's model card")
  show.add_argument('--model', required=True)
  which = show.add_mutually_exclusive_group(required=True)
  which.add_argument('--version', type=_version_arg)
  which.add_argument('--alias')
  promote = commands.add_parser('promote', parents=[common], help='point an alias at a version')
  rollback = commands.add_parser('rollback', parents=[common],
                                 help='point an alias back at its previous version')
  for command in (promote, rollback):
    command.add_argument('--model', required=True)
    command.add_argument('--alias', required=True)
  promote.add_argument('--version', required=True, type=_version_arg)
  gc = commands.add_parser('gc', parents=[common], help='remove crashed publishes')
  gc.add_argument('--model', help='Only this model (default: all).')
  gc.add_argument('--older_than_hours', type=float, default=24,
                  help='Remove staging dirs started longer ago than this.')
  return parser


def main(argv: Optional[List[str]] = None) -> int:
  args = _parser().parse_args(argv)
  try:
    if not tf.io.gfile.isdir(args.registry):
      raise NotFoundError(f'no registry at {args.registry!r}')
    result, lines = _COMMANDS[args.command](FilesystemRegistry(args.registry), args)
  except (ValueError, NotFoundError) as error:
    print(f'error: {error}', file=sys.stderr)
    return 2
  print(json.dumps(result, indent=2, sort_keys=True) if args.json else '\n'.join(lines))
  return 0


if __name__ == '__main__':
  sys.exit(main())
