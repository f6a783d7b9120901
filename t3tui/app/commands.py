"""The command palette (Ctrl+P): every command in the user's language, as a Textual command provider."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import SystemCommand
from textual.command import DiscoveryHit, Hit, Hits, Provider

from t3tui.i18n import available, catalog, t

if TYPE_CHECKING:
    from t3tui.app.app import T3App

LANGUAGE_NAMES = {"en": "English", "zh": "简体中文"}


def palette_commands(app: T3App) -> list[SystemCommand]:
    """The commands that apply now (Interrupt only while the open thread runs)."""
    commands = [
        SystemCommand(t("cmd.new_thread"), t("cmd.new_thread_help"), app.action_new_thread),
        SystemCommand(t("cmd.new_thread_in"), t("cmd.new_thread_in_help"), app.thread_list.pick_directory),
        SystemCommand(t("cmd.next_thread"), t("cmd.next_thread_help"), app.action_next_thread),
        SystemCommand(t("cmd.prev_thread"), t("cmd.prev_thread_help"), app.action_prev_thread),
        SystemCommand(t("cmd.switch_thread"), t("cmd.switch_thread_help"), app.thread_list.switch),
        SystemCommand(t("cmd.find_thread"), t("cmd.find_thread_help"), app.thread_list.start),
        SystemCommand(t("cmd.toggle_sidebar"), t("cmd.toggle_sidebar_help"), app.thread_list.toggle_sidebar),
        SystemCommand(t("cmd.cockpit"), t("cmd.cockpit_help"), app.attention.open_cockpit),
        SystemCommand(t("cmd.attention_first"), t("cmd.attention_first_help"), app.attention.toggle_first),
    ]
    if app.thread_list.listing().more:
        more = app.thread_list.more
        commands.append(SystemCommand(t("cmd.more_threads"), t("cmd.more_threads_help"), more))
    th = app.threads.current
    if th is not None and th.active:
        sid = th.id
        commands.append(
            SystemCommand(t("cmd.interrupt"), t("cmd.interrupt_help"), lambda: app.interrupt.interrupt(sid))
        )
    main = app.main
    commands += [
        SystemCommand(t("cmd.focus_prompt"), t("cmd.focus_prompt_help"), main.prompt.focus),
        SystemCommand(t("cmd.focus_sidebar"), t("cmd.focus_sidebar_help"), main.sidebar.focus),
        SystemCommand(t("cmd.reconnect"), t("cmd.reconnect_help"), app.connection.reconnect_now),
        SystemCommand(t("cmd.providers"), t("cmd.providers_help"), app.action_providers),
        SystemCommand(t("cmd.choose_model"), t("cmd.choose_model_help"), app.action_choose_model),
        SystemCommand(t("cmd.rename"), t("cmd.rename_help"), app.thread_ops.rename),
        SystemCommand(t("cmd.fork"), t("cmd.fork_help"), app.thread_ops.fork),
        SystemCommand(t("cmd.delete"), t("cmd.delete_help"), app.thread_ops.delete),
        SystemCommand(t("cmd.compact"), t("cmd.compact_help"), app.thread_ops.compact),
        SystemCommand(t("cmd.undo"), t("cmd.undo_help"), app.undo.undo),
        SystemCommand(t("cmd.redo"), t("cmd.redo_help"), app.undo.redo),
        SystemCommand(t("cmd.variant"), t("cmd.variant_help"), app.action_cycle_variant),
        SystemCommand(t("cmd.next_agent"), t("cmd.next_agent_help"), lambda: app.action_cycle_agent(1)),
        SystemCommand(t("cmd.choose_agent"), t("cmd.choose_agent_help"), app.agents.pick),
        SystemCommand(t("cmd.editor"), t("cmd.editor_help"), lambda: app.run_action("open_editor")),
        SystemCommand(t("cmd.expand_pastes"), t("cmd.expand_pastes_help"), main.prompt.action_expand_pastes),
        SystemCommand(t("cmd.copy"), t("cmd.copy_help"), app.copier.copy),
        SystemCommand(t("cmd.diff"), t("cmd.diff_help"), app.diffs.key),
        SystemCommand(t("cmd.export"), t("cmd.export_help"), app.exporter.export),
        SystemCommand(t("cmd.details"), t("cmd.details_help"), app.action_toggle_details),
        SystemCommand(t("cmd.timestamps"), t("cmd.timestamps_help"), app.view_options.toggle_timestamps),
    ]
    for lang in available():
        if catalog(lang):
            name = LANGUAGE_NAMES.get(lang, lang)
            commands.append(
                SystemCommand(
                    t("cmd.language", name=name),
                    t("cmd.language_help", name=name),
                    lambda lang=lang: app.language.set(lang),
                )
            )
    commands += [
        SystemCommand(t("cmd.theme"), t("cmd.theme_help"), app.action_change_theme),
        SystemCommand(t("cmd.keys"), t("cmd.keys_help"), app.action_toggle_keys),
        SystemCommand(t("cmd.quit"), t("cmd.quit_help"), app.action_quit),
    ]
    return commands


class Commands(Provider):
    """t3tui's commands for the palette, found as Textual's own system commands are."""

    def _commands(self) -> list[SystemCommand]:
        return palette_commands(cast("T3App", self.app))

    async def discover(self) -> Hits:
        for title, help_text, callback, _discover in sorted(self._commands(), key=lambda c: c.title):
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback, _discover in self._commands():
            if (match := matcher.match(title)) > 0:
                yield Hit(match, matcher.highlight(title), callback, help=help_text)
