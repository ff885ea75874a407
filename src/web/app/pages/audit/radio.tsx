/**
 * A labelled group of radio buttons (a fieldset with a legend): one choice among a few, fully
 * usable by keyboard — Tab reaches the group, the arrow keys choose (WAI-ARIA radio group pattern,
 * native behaviour).
 */
import { useId } from "preact/hooks";
import type { Option } from "../../ui/index.js";

export function RadioGroup(props: {
  legend: string;
  name: string;
  value: string;
  onValue: (v: string) => void;
  options: readonly (Option & { hint?: string })[];
}) {
  const id = useId();
  return (
    <fieldset class="audit-radios">
      <legend>{props.legend}</legend>
      {props.options.map((o) => (
        <label key={o.value} for={`${id}-${o.value}`}>
          <input
            type="radio"
            id={`${id}-${o.value}`}
            name={`${props.name}-${id}`}
            value={o.value}
            checked={props.value === o.value}
            onChange={() => props.onValue(o.value)}
          />
          <span>
            {o.label}
            {o.hint && <span class="audit-sub">{o.hint}</span>}
          </span>
        </label>
      ))}
    </fieldset>
  );
}
