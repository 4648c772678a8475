//! The log and result panes' side of the app: which pane takes an action, past workflows read
//! from disk, and handing the code to $EDITOR.

use super::{App, LOG_TAIL_BYTES};
use crate::keymap::{Action, Focus};
use crate::logbuf::LogBuffer;

impl App {
    /// A workflow from the history has its log and results on disk only: have them read.
    pub(super) fn load_from_disk(&mut self) {
        let Some(id) = self.view.selected.clone() else {
            return;
        };
        if self.model.logs.contains_key(&id) {
            return;
        }
        // Filled by the log event the engine sends once it has read the file.
        self.model.logs.insert(id.clone(), LogBuffer::default());
        let change = self.model.store.get(&id).and_then(|w| w.change.clone());
        self.engine.load_past(&id, LOG_TAIL_BYTES, change);
    }

    /// The panes' own keys. The focused pane is offered the action first; the result view
    /// takes its tabs from any pane (`1`-`4` in the table show a tab), and the log takes the
    /// scrolling keys the focused pane leaves (the table's page keys scroll the log). False
    /// when no pane took it.
    pub(super) fn pane_action(&mut self, action: Action) -> bool {
        let id = self.view.selected.as_ref();
        let page = super::layout::result_body_height(self.view.size).max(1);
        let on_repo = self.selected_workflow().is_some_and(|w| w.change.is_some());
        if self.view.result_view.tab_action(action, on_repo) {
            return true;
        }
        if self.view.focus == Focus::Result {
            return self
                .view
                .result_view
                .scroll_action(&self.model.results, action, id, page);
        }
        let len = self.selected_log().map_or(0, LogBuffer::len);
        self.view.log_view.act(action, len, self.log_height())
    }

    /// Asks the terminal loop to open the selected workflow's code in $EDITOR.
    pub(super) fn open_editor(&mut self) {
        let Some(id) = self.view.selected.clone() else {
            return self.warn("no workflow selected");
        };
        let Some(language) = self.model.results.language(&id) else {
            return self.warn("this workflow has no code yet");
        };
        let path = self
            .engine
            .home()
            .workflow_dir(&id)
            .join(language.code_file());
        if path.exists() {
            self.effects.push(super::effect::Effect::Edit(path));
        } else {
            self.warn(format!("{} does not exist yet", path.display()));
        }
    }

    /// Reports how the editor ended.
    pub(super) fn editor_finished(
        &mut self,
        path: &std::path::Path,
        outcome: Result<std::process::ExitStatus, String>,
    ) {
        match outcome {
            Ok(status) if status.success() => self.info(format!("edited {}", path.display())),
            Ok(status) => self.warn(format!("the editor ended with {status}")),
            Err(e) => self.warn(format!(
                "cannot run the editor ($VISUAL, $EDITOR or vi): {e}"
            )),
        }
    }

    /// Runs $VISUAL or $EDITOR (else `vi`) on `path` and waits for it; the caller has given the
    /// terminal back first.
    pub fn editor_command(path: &std::path::Path) -> std::process::Command {
        let editor = std::env::var("VISUAL")
            .ok()
            .filter(|e| !e.trim().is_empty())
            .or_else(|| {
                std::env::var("EDITOR")
                    .ok()
                    .filter(|e| !e.trim().is_empty())
            })
            .unwrap_or_else(|| "vi".to_owned());
        let mut words = editor.split_whitespace();
        let mut command = std::process::Command::new(words.next().unwrap_or("vi"));
        command.args(words).arg(path);
        command
    }
}
