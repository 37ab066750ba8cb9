import { useState } from "preact/hooks";
import { board, live } from "./live.ts";

/** What the empty dashboard needs to say how to start. */
export interface OnboardingProps {
  /** This server's URL, as the page was asked for (host and port of the request). */
  serverUrl: string;
  /** Some token is configured: ingest needs one (never shown itself). */
  tokenSet: boolean;
  /** The hookwatch checkout, where `deno task` runs. */
  checkout: string;
  /** Nothing arrived yet (the first paint's snapshot and sessions are empty). */
  empty: boolean;
}

/** The lines to copy, in order: install for one project or all, the token, a test event. */
export function onboardingSteps(p: OnboardingProps) {
  const url = p.serverUrl;
  const body = JSON.stringify({
    source_app: "curl-test",
    session_id: "curl-test",
    hook_event_type: "SessionStart",
    payload: { source: "curl" },
  });
  return {
    project: `cd ${p.checkout}\n` +
      `deno task hooks:install --project /path/to/your/project --server-url ${url}`,
    global: `deno task hooks:install --global --server-url ${url}`,
    token: p.tokenSet ? "export HOOKWATCH_TOKEN=…" : null,
    curl: [
      `curl -sS -X POST ${url}/events`,
      `  -H 'content-type: application/json'`,
      ...(p.tokenSet ? [`  -H "authorization: Bearer $HOOKWATCH_TOKEN"`] : []),
      `  -d '${body}'`,
    ].join(" \\\n"),
  };
}

function Command(props: { text: string; name: string }) {
  const [copied, setCopied] = useState(false);
  const copy = () => {
    navigator.clipboard?.writeText(props.text).then(
      () => setCopied(true),
      () => {},
    );
  };
  return (
    <div class="command" data-command={props.name}>
      <pre>{props.text}</pre>
      <button type="button" class="copy" onClick={copy}>
        {copied ? "Copied" : "Copy"}
      </button>
    </div>
  );
}

/**
 * The empty dashboard's first steps: the installer line for this server (a project, or every
 * project), the token hint when a token protects it, and a `curl` that posts a test event.
 * Gone as soon as anything arrives.
 */
export default function Onboarding(props: OnboardingProps) {
  const browser = typeof document !== "undefined";
  const update = browser ? live.value : null;
  const sessions = browser ? board.value : null;
  const empty = update
    ? update.counts.display === 0 &&
      (sessions === null ||
        sessions.sessions.length + sessions.endedCount === 0)
    : props.empty;
  if (!empty) return <div class="onboarding" hidden />;
  const steps = onboardingSteps(props);
  return (
    <section class="onboarding" aria-label="Get started">
      <div class="panel-head">
        <h2>No events yet: connect an agent</h2>
      </div>
      <ol>
        <li>
          <p>
            Install hookwatch's hooks into the project you run Claude Code in
            (replace the path), from the hookwatch checkout:
          </p>
          <Command name="install" text={steps.project} />
          <p>or for every project on this machine:</p>
          <Command name="install-global" text={steps.global} />
        </li>
        {steps.token
          ? (
            <li>
              <p>
                This server wants a token. Where the agent runs (and before the
                install, so it can check the server), export the one hookwatch
                was started with, or one with the ingest role from its tokens
                file:
              </p>
              <Command name="token" text={steps.token} />
            </li>
          )
          : null}
        <li>
          <p>
            Run the agent there, or post a test event now; it shows up here at
            once:
          </p>
          <Command name="curl" text={steps.curl} />
        </li>
      </ol>
    </section>
  );
}
