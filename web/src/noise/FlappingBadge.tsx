/** The incident's alerts are flapping (issue 12): its pages are held and resolutions wait.
 * Not wired yet: put it next to the StatusBadge on the incidents list and detail once the
 * incident carries `flapping` (after the noise branch is merged). */
export function FlappingBadge({ flapping }: { flapping?: boolean | null }) {
  if (!flapping) return null;
  return (
    <span className="badge flapping" title="Its alerts change state often: pages are held while it flaps">
      flapping
    </span>
  );
}
