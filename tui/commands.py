"""The command palette's Hearth commands (ctrl+p): every action that works now, with its key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import Protocol, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.keys import ACTIONS, Action


class _Keyed(Protocol):
    def key_for(self, action_id: str) -> str: ...


class HearthCommands(Provider):
    """Hearth's actions on the chat screen; one greyed out by `check_action` is not offered."""

    def _available(self) -> list[tuple[str, Action]]:
        app = self.app
        if self.screen is not app.screen_stack[0]:
            return []  # other screens offer their own keys
        found = []
        for action in ACTIONS:
            if action.scope != "chat":
                continue
            name, _, rest = action.action.partition("(")
            params = (int(rest.rstrip(")")),) if rest else ()
            if app.check_action(name, params) is False:
                continue
            key = cast(_Keyed, app).key_for(action.id)
            found.append((f"{action.title}  ({key})" if key else action.title, action))
        return found

    def _run(self, action: Action) -> None:
        self.app.call_later(self.app.run_action, action.action)

    async def discover(self) -> Hits:
        for title, action in self._available():
            yield DiscoveryHit(title, partial(self._run, action), help=action.help)

    async def search(self, query: str) -> AsyncIterator[Hit]:  # type: ignore[override]
        matcher = self.matcher(query)
        for title, action in self._available():
            score = max(matcher.match(title), matcher.match(action.help) * 0.5)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(title), partial(self._run, action), help=action.help
                )
