/** The incident's alerts are flapping (issue 12): its pages are held and resolutions wait. */
export function FlappingBadge({ flapping }: { flapping?: boolean | null }) {
  if (!flapping) return null;
  return (
    <span className="badge flapping" title="Its alerts change state often: pages are held while it flaps">
      flapping
    </span>
  );
}
