// SPDX-License-Identifier: MIT
// prefs.js: the user's display preferences (speed unit), persisted; owns the km/h-or-mph choice.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { DISTANCE_LABEL, SPEED_LABEL, resolveUnit } from '@/lib/units.js'

const UNIT_KEY = 'beamtel.units' // 'auto' | 'kmh' | 'mph'
const GAME_KM_KEY = 'beamtel.gameKm' // last OG_KM seen: 'true' | 'false'

function load(key) {
  try {
    return globalThis.localStorage?.getItem(key) ?? null
  } catch {
    return null
  }
}

function save(key, value) {
  try {
    globalThis.localStorage?.setItem(key, value)
  } catch {
    // storage disabled: the choice lasts until reload
  }
}

export const usePrefsStore = defineStore('prefs', () => {
  const stored = load(UNIT_KEY)
  const unitChoice = ref(['auto', 'kmh', 'mph'].includes(stored) ? stored : 'auto')
  const gameKmRaw = load(GAME_KM_KEY)
  const gameKm = ref(gameKmRaw === 'true' ? true : gameKmRaw === 'false' ? false : null)

  /** 'kmh' or 'mph', what every speed and distance is shown in. */
  const unit = computed(() => resolveUnit(unitChoice.value, gameKm.value))
  const speedLabel = computed(() => SPEED_LABEL[unit.value])
  const distanceLabel = computed(() => DISTANCE_LABEL[unit.value])

  /** Sets 'auto' (follow the game), 'kmh' or 'mph'. */
  function setUnitChoice(choice) {
    if (!['auto', 'kmh', 'mph'].includes(choice)) return
    unitChoice.value = choice
    save(UNIT_KEY, choice)
  }

  /** Records the game's OG_KM flag (cheap to call per frame: writes only on change). */
  function noteGameKm(km) {
    if (typeof km !== 'boolean' || km === gameKm.value) return
    gameKm.value = km
    save(GAME_KM_KEY, String(km))
  }

  return { unitChoice, gameKm, unit, speedLabel, distanceLabel, setUnitChoice, noteGameKm }
})
