"""Stratego in JAX with the ISF rules; `games.make("stratego", ...)`.

Modules: `config` (variants, setup notation), `tables` (static tables, action
ids), `ruleset` (`Rules`, one configuration), `bitboard` (legal moves as
16-bit row words), `rules` (init/step), `chase` (more-squares rule),
`observe`, `render`, `env` (the `Game`), `reference` (a plain-Python twin of
the rules), `spiel` (the OpenSpiel game `"stratego"`, registered on import),
`bots` (the heuristic bot), and the human-play view: `human_view` (the board
and battles in words) and `human_input` (typed commands).

Rules as implemented (interpretations marked *):

- Boards: `classic` and `barrage` are 10x10 with lakes on c5-d6 and g5-h6;
  `small` is 6x6 with lakes on b3-b4 and e3-e4 and two home ranks (*a
  training and test variant of ours: Flag, 3 Bombs, Spy, 2 Scouts, 2 Miners,
  Sergeant, General, Marshal). Barrage: Flag, Marshal, General, Miner, 2
  Scouts, Spy, 1 Bomb, anywhere on the four home ranks.
- Deployment (`deployment=`): "random" samples a uniform permutation of each
  army over its home squares in `init`; "fixed" uses the `setup` string (or a
  default); "phase" makes deployment part of the game: the first player
  places all its pieces, then the second, one action a piece, in the fixed
  order Flag, Bombs, Marshal, General, ..., Scout, Spy; the action is the
  square id (0..S-1) of an empty home square. *A fixed setup may have any army
  and may run past the home ranks (used by position tests).
- Moves: one square orthogonally onto an empty or enemy square, never onto a
  lake or an own piece; a Scout any number of empty squares in a line and it
  may attack at the end. Bombs and the Flag never move. The first player
  moves first. Play actions are `(direction * L + distance - 1) * S + from`
  with directions up (towards rank 10), down, left, right (see `tables`).
- Attacks reveal both pieces; the lower rank is removed, equal ranks both;
  the Spy wins only when it attacks the Marshal; a Miner removes a Bomb, any
  other attacker of a Bomb is removed (the Bomb stays); taking the Flag wins.
  *A Scout moving more than one square is revealed (its move shows it).
- Two-square rule (ISF 10), *as implemented: a player's three last moves made
  by one piece back and forth on one line (each starting where the previous
  ended, in alternating directions) forbid that piece to go back again onto a
  square of the first of those moves. For a one-square piece this is "A-B,
  B-A, A-B, then not B-A"; a Scout may not end its fourth move inside the
  stretch its first move covered. The opponent's moves do not matter.
- More-squares rule (ISF 11): see `games/stratego/chase.py` for the exact
  interpretation (chasing moves may not repeat a position of the chase; a
  position repeats only with the same player to move; the chaser's last 16
  positions of the chase are remembered).
- End: taking the Flag wins (+1/-1). A player to move with no legal move
  loses, *unless the other player has no movable piece either (no piece with
  a free or enemy neighbour square), then it is a draw. After `max_plies`
  moves (deployment not counted) the game is drawn; the stuck-player rule is
  checked first. *An illegal action loses the game for the player making it
  and leaves the board unchanged.
"""

from games.stratego.config import VARIANTS
from games.stratego.env import RETIRED_PARAMS, Stratego, StrategoParams, make_stratego
from games.stratego.state import State

__all__ = ["State", "Stratego", "StrategoParams", "VARIANTS", "make_stratego"]

from games import registry as _registry  # noqa: E402
from games.stratego import bots as _bots  # noqa: E402
from games.stratego import spiel as _spiel  # noqa: E402,F401  # pyspiel.

_registry.register(
    "stratego", make_stratego, spiel_name="stratego",
    bots={"heuristic": _registry.Bot(policy=_bots.heuristic_policy,
                                     spiel_bot=_bots.StrategoHeuristicBot)},
    # The move limit and how the armies reach the board: a policy with a
    # deployment head also plays from fixed or random setups.
    free_params=("max_plies", "setup", "deployment"),
    human_view="games.stratego.human_view",
    params=StrategoParams, retired_params=RETIRED_PARAMS)
