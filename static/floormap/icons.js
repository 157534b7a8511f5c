// Marker icons: one small inline SVG glyph per kind of thing, white on a coloured disc.
// Glyphs are drawn in a 24 x 24 box; the marker is a 44 px touch target with a 34 px disc.

const GLYPHS = {
  pump: '<rect x="5" y="3" width="14" height="18" rx="2"/><rect x="8" y="6" width="8" height="5" rx="1"/>'
    + '<circle cx="9.5" cy="16" r="1" fill="#fff"/><circle cx="14.5" cy="16" r="1" fill="#fff"/>',
  wheelchair: '<circle cx="10" cy="16" r="5"/><circle cx="9" cy="3.8" r="1.8" fill="#fff" stroke="none"/>'
    + '<path d="M9 7v6h6l3 6"/>',
  monitor: '<rect x="3" y="4" width="18" height="13" rx="1.5"/><path d="M5 11h3l2-3 2 6 2-3h5M9 21h6M12 17v4"/>',
  bag: '<path d="M7 3h10v11a5 5 0 0 1-10 0z"/><path d="M7 8h10M12 19v3"/>',
  infant: '<circle cx="12" cy="7" r="3.5"/><path d="M6.5 14q5.5-3.5 11 0v3.5q-5.5 4.5-11 0z"/>',
  person: '<circle cx="12" cy="7" r="3.5"/><path d="M5 21v-1.5a7 7 0 0 1 14 0V21"/>',
  patient: '<circle cx="7" cy="10" r="2.2"/><path d="M3 7v13M3 16h18v4M11 13h8a2 2 0 0 1 2 2v1"/>',
  defibrillator: '<path d="M13 2 6 13h5l-1 9 7-11h-5z" fill="#fff"/>',
  bed: '<path d="M3 7v13M3 16h18v4M3 12.5h5.5M10.5 12.5h8a2.5 2.5 0 0 1 2.5 2.5v1"/>',
  equipment: '<rect x="4" y="7" width="16" height="13" rx="2"/><path d="M9 7V4.5h6V7M12 10.5v6M9 13.5h6"/>',
  tag: '<circle cx="12" cy="12" r="7"/><circle cx="12" cy="12" r="2.5" fill="#fff"/>',
};

// glyph and colour by asset category first, then by tracked-object kind
const BY_CATEGORY = {
  infusion_pump: ["pump", "#0b6e99"],
  syringe_pump: ["pump", "#1565c0"],
  feeding_pump: ["pump", "#4f6d7a"],
  wheelchair: ["wheelchair", "#6a4c93"],
  monitor: ["monitor", "#2e7d32"],
  ecg: ["monitor", "#558b2f"],
  defibrillator: ["defibrillator", "#c62828"],
  bed: ["bed", "#8d6e63"],
};
const BY_KIND = {
  asset: ["equipment", "#455a64"],
  bag: ["bag", "#00838f"],
  infant: ["infant", "#d81b60"],
  mother: ["person", "#ad1457"],
  staff: ["person", "#ef6c00"],
  patient: ["patient", "#5d4037"],
  other: ["tag", "#607d8b"],
};
const UNASSIGNED = ["tag", "#78909c"];

/** [glyph name, colour] for a fix ({kind, category}). */
export function look(fix) {
  return BY_CATEGORY[fix.category] || BY_KIND[fix.kind] || UNASSIGNED;
}

/** The marker's inner SVG: a coloured disc with the white glyph, and a ring used to pulse a highlight. */
export function iconSvg(fix) {
  const [glyph, colour] = look(fix);
  return `<svg viewBox="0 0 44 44" width="44" height="44" aria-hidden="true">`
    + `<circle class="fm-ring" cx="22" cy="22" r="19" fill="none" stroke="${colour}" stroke-width="3"/>`
    + `<circle class="fm-disc" cx="22" cy="22" r="16" fill="${colour}" stroke="#fff" stroke-width="2.5"/>`
    + `<g transform="translate(12.4 12.4) scale(0.8)" fill="none" stroke="#fff" stroke-width="2.2"`
    + ` stroke-linecap="round" stroke-linejoin="round">${GLYPHS[glyph]}</g></svg>`;
}
