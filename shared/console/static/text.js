// Text as a person reads it: counts with the right noun ("1 invitee",
// "6 paid users"), and names and messages shown without the characters that
// are invisible or change the direction of the text around them (a group
// named "adm\u202Enimda" would show as "admadmin"). No DOM here, so the
// tests run it under node.

// The rule of shared/domain (Invisible): control (Cc) and format (Cf)
// characters, the line and paragraph separators, and the letters and marks
// that draw nothing. A Go test keeps the two equal, code point by code point.
const INVISIBLE = /[\p{Cc}\p{Cf}\u2028\u2029\u034F\u115F\u1160\u17B4\u17B5\u180B-\u180F\u3164\uFFA0]/u;
const SPACE = /\s/u;

/** Whether the one character c (a code point) is invisible or changes direction. */
export function isInvisible(c) {
  return INVISIBLE.test(c);
}

const visible = (c) => !INVISIBLE.test(c) && !SPACE.test(c);

/**
 * Text as it may be shown (shared/domain NeutralizeText): every invisible
 * character goes, except line feeds and tabs, and the zero-width joiner and
 * non-joiner between two visible characters (they shape Persian, Indic
 * scripts and emoji sequences, and hide nothing there).
 */
export function neutralize(text) {
  const s = String(text);
  if (!INVISIBLE.test(s)) return s;
  const cs = Array.from(s);
  let out = "";
  cs.forEach((c, i) => {
    if (c === "\n" || c === "\t" || !INVISIBLE.test(c)) out += c;
    else if ((c === "\u200C" || c === "\u200D") && i > 0 && i + 1 < cs.length && visible(cs[i - 1]) && visible(cs[i + 1])) out += c;
  });
  return out;
}

/**
 * A count with its noun: count(1, "invitee") is "1 invitee", count(6, "paid
 * user") "6 paid users"; plural names an irregular one (count(2, "entry",
 * "entries")).
 */
export function count(n, singular, plural = singular + "s") {
  return n + " " + (n === 1 ? singular : plural);
}
