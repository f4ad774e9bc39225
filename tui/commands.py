"""The command palette's Hearth commands (ctrl+p): every action that works now, with its key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import Protocol, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.keys import ACTIONS, Action


class _Keyed(Protocol):
    def key_for(self, action_id: str) -> str: ...

    def unavailable_action(self, action: str) -> str | None: ...


class HearthCommands(Provider):
    """Hearth's actions on the chat screen; one greyed out by `check_action` is not offered,
    and one the conversation lacks is offered with the reason (running it says so)."""

    def _available(self) -> list[tuple[str, Action, str]]:
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
            keyed = cast(_Keyed, app)
            key = keyed.key_for(action.id)
            why = keyed.unavailable_action(name)
            title = f"{action.title}  ({key})" if key else action.title
            found.append((title, action, f"unavailable: {why}" if why else action.help))
        return found

    def _run(self, action: Action) -> None:
        self.app.call_later(self.app.run_action, action.action)

    async def discover(self) -> Hits:
        for title, action, help in self._available():
            yield DiscoveryHit(title, partial(self._run, action), help=help)

    async def search(self, query: str) -> AsyncIterator[Hit]:  # type: ignore[override]
        matcher = self.matcher(query)
        for title, action, help in self._available():
            score = max(matcher.match(title), matcher.match(help) * 0.5)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._run, action), help=help)
