#!/usr/bin/env bash
# Cluttered pictures with no person in them, for bench:detect and the detector tests: paintings and
# illustrations, landscape photographs, animals (a cat, a raccoon, a horse, insects), ancient coins
# with heads in relief, printed text and a mascot poster, cloth, stone and other patterns. All from
# Debian packages (the Debian archive is the one image source these machines reach), under free
# licences recorded per package in MANIFEST.tsv; nothing here is copied into the repository.
#   test/helpers/face-truth/fetch-clutter.sh [DIR]   (default: $FER_CLUTTER_DIR or ~/.cache/fer-stream/clutter)
# Cached: a DIR whose MANIFEST.tsv has this script's version is left as it is.
set -euo pipefail
VERSION=1
dir="${1:-${FER_CLUTTER_DIR:-$HOME/.cache/fer-stream/clutter}}"
if [ -f "$dir/MANIFEST.tsv" ] && head -1 "$dir/MANIFEST.tsv" | grep -q "clutter v$VERSION\$"; then exit 0; fi

packages=(plasma-workspace-wallpapers mate-backgrounds python3-skimage python3-scipy gimp-data)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
if ! apt-get download "${packages[@]}" >/dev/null 2>&1; then
  apt-get update -qq >/dev/null
  apt-get download "${packages[@]}" >/dev/null
fi
for deb in *.deb; do dpkg-deb -x "$deb" root; done
version_of() { dpkg-deb -f "$(ls "$1"_*.deb)" Version; }

mkdir -p "$dir.tmp"
rm -rf "${dir:?}.tmp/"*
manifest="$dir.tmp/MANIFEST.tsv"
printf '# fer-stream clutter v%s\n' "$VERSION" > "$manifest"
printf 'file\tcategory\tpackage\tversion\tlicence\n' >> "$manifest"
# add CATEGORY PACKAGE LICENCE SOURCE-PATH [NAME]
add() {
  local category="$1" package="$2" licence="$3" source="root/$4" name="${5:-$(basename "$4")}"
  local file="$category--$name"
  cp "$source" "$dir.tmp/$file"
  printf '%s\t%s\t%s\t%s\t%s\n' "$file" "$category" "$package" "$(version_of "$package")" "$licence" >> "$manifest"
}
# One size of a Plasma wallpaper: 1920x1080 where there is one, else the smallest landscape (wide) one.
plasma() {
  local category="$1" name="$2" images="usr/share/wallpapers/$2/contents/images" pick=""
  for candidate in 1920x1080.jpg 1920x1080.png 2560x1600.jpg 2560x1600.png 3840x2160.png 5120x2880.jpg 5120x2880.png; do
    [ -f "root/$images/$candidate" ] && { pick="$candidate"; break; }
  done
  add "$category" plasma-workspace-wallpapers 'LGPL-3 / CC-BY-SA-4.0 (debian/copyright)' "$images/$pick" "$name.${pick##*.}"
}
for w in PastelHills SafeLanding Altai Kite Patak IceCold Cascade Canopee; do plasma painting "$w"; done
for w in BytheWater ColdRipple EveningGlow Path summer_1am DarkestHour MilkyWay FallenLeaf; do plasma landscape "$w"; done
for w in Grey Honeywave Cluster Opal Shell Volna Kokkini Elarun ColorfulCups; do plasma pattern "$w"; done
plasma poster FlyingKonqui
mate=usr/share/backgrounds/mate
add painting mate-backgrounds GPL-2+ "$mate/abstract/Elephants.jpg"
for f in Dune Storm GreenMeadow Garden; do add landscape mate-backgrounds GPL-2+ "$mate/nature/$f.jpg"; done
for f in LadyBird TwoWings; do add animal mate-backgrounds GPL-2+ "$mate/nature/$f.jpg"; done
for f in Blinds Wood RainDrops Aqua FreshFlower YellowFlower; do add pattern mate-backgrounds GPL-2+ "$mate/nature/$f.jpg"; done
skimage=usr/lib/python3/dist-packages/skimage/data
for f in chelsea.png horse.png; do add animal python3-skimage 'CC0 / public domain (skimage data README)' "$skimage/$f"; done
add statue python3-skimage 'public domain (skimage data README)' "$skimage/coins.png"
for f in page.png text.png; do add poster python3-skimage 'CC0 (skimage data README)' "$skimage/$f"; done
for f in rocket.jpg motorcycle_left.png hubble_deep_field.jpg; do add landscape python3-skimage 'CC0 / public domain (skimage data README)' "$skimage/$f"; done
for f in brick.png grass.png gravel.png; do add pattern python3-skimage 'CC0 (skimage data README)' "$skimage/$f"; done
# scipy's raccoon (scipy.misc.face): bz2-compressed 1024×768 RGB.
bzip2 -dc root/usr/lib/python3/dist-packages/scipy/misc/face.dat > "$dir.tmp/animal--raccoon_1024x768.rgb"
printf '%s\t%s\t%s\t%s\t%s\n' 'animal--raccoon_1024x768.rgb' animal python3-scipy "$(version_of python3-scipy)" 'public domain (scipy.misc.face)' >> "$manifest"
gimp=usr/share/gimp/2.0/patterns
for f in Fabric/burlap Animal/leopard Animal/leather Stone/marble1 Stone/granite1 Paper/crinklepaper; do add pattern gimp-data 'GPL-3+ (debian/copyright)' "$gimp/$f.pat"; done

rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
mv "$dir.tmp" "$dir"
echo "clutter pictures in $dir: $(($(wc -l < "$dir/MANIFEST.tsv") - 2)) files"
