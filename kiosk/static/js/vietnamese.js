// Vietnamese letters for the on-screen keyboard: tone marks placed by the spelling rules,
// the accented forms of a vowel (long press), all in NFC.

export const TONES = Object.freeze({
  acute: "\u0301", // sắc
  grave: "\u0300", // huyền
  hook: "\u0309", // hỏi
  tilde: "\u0303", // ngã
  dot: "\u0323", // nặng
});
const TONE_MARKS = new Set(Object.values(TONES));
const VOWELS = "aăâeêioôơuưy";
const MODIFIED = "ăâêôơư";

/** The accented forms offered by a long press on a vowel key (plain first). */
export function variants(letter) {
  const lower = letter.toLowerCase();
  const bases = { a: "aăâ", e: "eê", o: "oôơ", u: "uư", i: "i", y: "y", d: "dđ" }[lower];
  if (!bases) return [letter];
  const out = [];
  for (const base of bases) {
    if (base === "d" || base === "đ") {
      out.push(base);
      continue;
    }
    out.push(base, ...Object.values(TONES).map((mark) => (base + mark).normalize("NFC")));
  }
  return letter === lower ? out : out.map((v) => v.toUpperCase());
}

function split(letter) {
  // base letter (modifiers kept) and its tone mark, if any
  const parts = letter.normalize("NFD");
  let tone = "";
  let base = "";
  for (const ch of parts) {
    if (TONE_MARKS.has(ch)) tone = ch;
    else base += ch;
  }
  return { base: base.normalize("NFC"), tone };
}

function isVowel(letter) {
  return VOWELS.includes(split(letter).base.toLowerCase());
}

/** Index (in `letters`) of the vowel that carries the word's tone mark. */
export function tonePosition(letters) {
  const lower = letters.map((l) => split(l).base.toLowerCase());
  let start = 0;
  // "qu" and "gi" before a vowel: their u / i belong to the consonant.
  if ((lower[0] === "q" && lower[1] === "u") || (lower[0] === "g" && lower[1] === "i" && lower.length > 2 && VOWELS.includes(lower[2]))) start = 2;
  const vowels = [];
  for (let i = start; i < lower.length; i += 1) {
    if (VOWELS.includes(lower[i])) vowels.push(i);
    else if (vowels.length) break; // the vowel cluster ended
  }
  if (!vowels.length) return start === 2 && lower.length > 1 ? 1 : -1;
  const modified = vowels.filter((i) => MODIFIED.includes(lower[i]));
  if (modified.length) return modified[modified.length - 1]; // ươ: on the ơ
  if (vowels.length === 1) return vowels[0];
  const last = vowels[vowels.length - 1];
  const closed = last + 1 < lower.length; // a final consonant follows
  if (closed) return last; // hoàn, tuấn
  if (vowels.length === 3) return vowels[1]; // khuyến? (closed) / ngoài → middle
  return vowels[0]; // hòa, mía, núi
}

/**
 * Put `tone` (a combining mark, or "" to remove) on the word that ends `text`; the word's
 * earlier tone goes away. Returns the new text (NFC); unchanged when the word has no vowel.
 */
export function applyTone(text, tone) {
  const match = /[\p{L}]+$/u.exec(text.normalize("NFC"));
  if (!match) return text;
  const word = Array.from(match[0]);
  const at = tonePosition(word);
  if (at < 0 || !isVowel(word[at])) return text;
  const current = split(word[at]).tone;
  const bare = word.map((l) => split(l).base);
  // The same tone again takes it off (as on phone keyboards).
  bare[at] = (bare[at] + (current === tone ? "" : tone)).normalize("NFC");
  return text.slice(0, match.index) + bare.join("");
}
