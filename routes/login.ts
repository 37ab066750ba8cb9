import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { html } from "hono/html";
import { SESSION_COOKIE } from "./edge/auth.ts";
import type { Access } from "../lib/access/access.ts";
import { type BodyLimits, readBody } from "./edge/body.ts";
import { sameOriginOnly } from "./edge/same_origin.ts";

/** The dashboard's own stylesheet: the sign-in page looks like it (and follows dark mode). */
const STYLESHEET = new URL("../static/dashboard.css", import.meta.url);

function page(message: string | null) {
  // No script and no inline style: the page works under the default CSP.
  return html`
    <!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8">
        <title>hookwatch: sign in</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="color-scheme" content="light dark">
        <link rel="stylesheet" href="/login.css">
      </head>
      <body class="signin-page">
        <main class="signin">
          <h1>hookwatch</h1>
          <form method="post" action="/login">
            <label for="token">Access token</label>
            <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
            <button type="submit">Sign in</button>
          </form>
          ${message ? html`<p class="error" role="alert">${message}</p>` : ""}
          <p class="hint">
            The token is the <code>HOOKWATCH_TOKEN</code> this hookwatch server was
            started with, or one given to you from its tokens file
            (<code>HOOKWATCH_TOKENS_FILE</code>): ask whoever runs it. Agents send a
            token too: export <code>HOOKWATCH_TOKEN</code> where the agent runs.
          </p>
        </main>
      </body>
    </html>
  `;
}

/** The form's `token` field (urlencoded or multipart), undefined when there is none. */
async function formToken(
  req: Request,
  limits: BodyLimits,
): Promise<string | undefined> {
  const body = await readBody(req, limits);
  const type = req.headers.get("content-type") ?? "";
  try {
    const token =
      (await new Response(body, { headers: { "content-type": type } })
        .formData()).get("token");
    return typeof token === "string" ? token : undefined;
  } catch {
    return undefined; // not a form
  }
}

/**
 * `GET /login` (a form, no script, styled by `GET /login.css`) and `POST /login`: a correct token starts a sign-in session
 * (`Access.signIn`: an opaque id bound to the token's name and role, not the token) in an
 * HttpOnly, SameSite=Strict cookie and redirects to the dashboard. `POST /logout` ends the
 * session. Mounted when some token is configured; `bodyTimeoutMs` is the body deadline.
 */
export function loginRoutes(access: Access, bodyTimeoutMs: number): Hono {
  const app = new Hono();
  const limits = { maxBytes: 8 * 1024, timeoutMs: bodyTimeoutMs };
  app.get("/login", (c) => c.html(page(null)));
  // Open like the form, unlike /static/: the page asking for the token needs its look.
  app.get("/login.css", async (c) => {
    c.header("content-type", "text/css; charset=utf-8");
    c.header("cache-control", "no-cache");
    return c.body(await Deno.readTextFile(STYLESHEET));
  });
  const sameOrigin = sameOriginOnly();
  app.post("/login", sameOrigin, async (c) => {
    const presented = await formToken(c.req.raw, limits);
    const session = presented === undefined
      ? null
      : await access.signIn(presented);
    if (session === null) {
      const known = presented === undefined
        ? null
        : access.identifyToken(presented);
      return known === null
        ? c.html(page("That token is not right."), 401)
        : c.html(
          page(
            `That is ${known.name}'s ${known.role} token: it sends events and opens nothing else. Sign in with a viewer, operator or admin token.`,
          ),
          403,
        );
    }
    setCookie(c, SESSION_COOKIE, session.cookie, {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      secure: new URL(c.req.url).protocol === "https:",
      expires: new Date(session.expiresAt),
    });
    return c.redirect("/", 303);
  });
  app.post("/logout", sameOrigin, async (c) => {
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie !== undefined) await access.signOut(cookie);
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.redirect("/login", 303);
  });
  return app;
}
