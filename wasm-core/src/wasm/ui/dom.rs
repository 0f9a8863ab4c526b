//! A small DOM builder over web-sys. Text goes in only as text (`set_text_content`, text nodes,
//! attribute values): nothing a page shows is ever parsed as HTML.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo::events::EventListener;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlElement, HtmlInputElement, HtmlSelectElement};

pub fn document() -> Document {
    gloo::utils::document()
}

/// An element being built.
#[derive(Clone)]
pub struct El(pub Element);

impl El {
    pub fn new(tag: &str) -> El {
        El(document().create_element(tag).unwrap_or_else(|_| document().create_element("div").expect("a div")))
    }

    pub fn class(self, class: &str) -> El {
        if !class.is_empty() {
            self.0.set_class_name(class);
        }
        self
    }

    pub fn id(self, id: &str) -> El {
        self.0.set_id(id);
        self
    }

    pub fn attr(self, name: &str, value: &str) -> El {
        let _ = self.0.set_attribute(name, value);
        self
    }

    /// Replaces the content with `text`, as text.
    pub fn text(self, text: &str) -> El {
        self.0.set_text_content(Some(text));
        self
    }

    pub fn child(self, child: impl Into<Node>) -> El {
        let _ = self.0.append_child(&child.into().0);
        self
    }

    pub fn children(self, children: impl IntoIterator<Item = El>) -> El {
        for c in children {
            let _ = self.0.append_child(&c.0);
        }
        self
    }

    /// Appends `text` as a text node.
    pub fn push_text(self, text: &str) -> El {
        let _ = self.0.append_child(&document().create_text_node(text));
        self
    }

    pub fn append(&self, child: &El) {
        let _ = self.0.append_child(&child.0);
    }

    /// Removes every child.
    pub fn clear(&self) {
        self.0.set_text_content(None);
    }

    /// Replaces the children with `child`.
    pub fn replace(&self, child: &El) {
        self.clear();
        self.append(child);
    }

    pub fn set_text(&self, text: &str) {
        self.0.set_text_content(Some(text));
    }

    pub fn set_class(&self, class: &str) {
        self.0.set_class_name(class);
    }

    pub fn set_attr(&self, name: &str, value: &str) {
        let _ = self.0.set_attribute(name, value);
    }

    pub fn remove_attr(&self, name: &str) {
        let _ = self.0.remove_attribute(name);
    }

    pub fn set_hidden(&self, hidden: bool) {
        if hidden {
            self.set_attr("hidden", "");
        } else {
            self.remove_attr("hidden");
        }
    }

    pub fn set_disabled(&self, disabled: bool) {
        if disabled {
            self.set_attr("disabled", "");
        } else {
            self.remove_attr("disabled");
        }
    }

    /// An `<input>`'s or `<select>`'s value.
    pub fn value(&self) -> String {
        if let Some(input) = self.0.dyn_ref::<HtmlInputElement>() {
            return input.value();
        }
        if let Some(select) = self.0.dyn_ref::<HtmlSelectElement>() {
            return select.value();
        }
        String::new()
    }

    pub fn set_value(&self, value: &str) {
        if let Some(input) = self.0.dyn_ref::<HtmlInputElement>() {
            input.set_value(value);
        } else if let Some(select) = self.0.dyn_ref::<HtmlSelectElement>() {
            select.set_value(value);
        }
    }

    pub fn checked(&self) -> bool {
        self.0.dyn_ref::<HtmlInputElement>().is_some_and(HtmlInputElement::checked)
    }

    pub fn set_checked(&self, checked: bool) {
        if let Some(input) = self.0.dyn_ref::<HtmlInputElement>() {
            input.set_checked(checked);
        }
    }

    pub fn focus(&self) {
        if let Some(e) = self.0.dyn_ref::<HtmlElement>() {
            let _ = e.focus();
        }
    }

    pub fn scroll_to_bottom(&self) {
        self.0.set_scroll_top(self.0.scroll_height());
    }
}

/// Anything that can be appended.
pub struct Node(web_sys::Node);

impl From<El> for Node {
    fn from(el: El) -> Node {
        Node(el.0.into())
    }
}

impl From<&El> for Node {
    fn from(el: &El) -> Node {
        Node(el.0.clone().into())
    }
}

impl From<&str> for Node {
    fn from(text: &str) -> Node {
        Node(document().create_text_node(text).into())
    }
}

impl From<String> for Node {
    fn from(text: String) -> Node {
        Node(document().create_text_node(&text).into())
    }
}

pub fn el(tag: &str) -> El {
    El::new(tag)
}

/// `<button type=button>` with a label.
pub fn button(label: &str, class: &str) -> El {
    el("button").attr("type", "button").class(class).text(label)
}

/// `<option value>` label.
pub fn option(value: &str, label: &str, selected: bool) -> El {
    let o = el("option").attr("value", value).text(label);
    if selected {
        o.attr("selected", "")
    } else {
        o
    }
}

/// What a mounted page owns: its event listeners and whether it is still on screen. Dropping
/// the scope (navigating away) removes the listeners; async work checks [`Scope::alive`] before
/// touching the DOM.
#[derive(Clone, Default)]
pub struct Scope(Rc<ScopeInner>);

#[derive(Default)]
struct ScopeInner {
    listeners: RefCell<Vec<EventListener>>,
    dead: Cell<bool>,
}

impl Scope {
    pub fn new() -> Scope {
        Scope::default()
    }

    pub fn alive(&self) -> bool {
        !self.0.dead.get()
    }

    /// Ends the page: listeners go, async work stops at its next check.
    pub fn close(&self) {
        self.0.dead.set(true);
        self.0.listeners.borrow_mut().clear();
    }

    /// `event` on `target` calls `f` while the page lives.
    pub fn on(&self, target: &El, event: &'static str, f: impl FnMut(&web_sys::Event) + 'static) {
        let listener = EventListener::new(&target.0, event, f);
        self.0.listeners.borrow_mut().push(listener);
    }

    /// `click` on `target` (no event needed).
    pub fn click(&self, target: &El, mut f: impl FnMut() + 'static) {
        self.on(target, "click", move |_| f());
    }
}

/// `label` and a control, as the seed's form rows: `* 报关单类型 [select]`.
pub fn form_row(label: &str, required: bool, control: El) -> El {
    let l = el("label").class("form-label");
    let l = if required { l.child(el("span").class("required").text("*")).push_text(" ") } else { l };
    el("div").class("form-row").child(l.push_text(label)).child(control)
}

/// Marks the page's state for tests and benchmarks: `<body data-page>` and a performance mark.
pub fn mark(name: &str) {
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-rendered", name);
    }
    if let Some(performance) = gloo::utils::window().performance() {
        let _ = performance.mark(&format!("datalink:{name}"));
    }
    // And once the browser drew the frame with it (`…:painted`, for the benchmark): the frame
    // callback runs before that frame's paint, a task queued from it runs after.
    let painted = format!("datalink:{name}:painted");
    let callback = wasm_bindgen::closure::Closure::once_into_js(move || {
        gloo::timers::callback::Timeout::new(0, move || {
            if let Some(performance) = gloo::utils::window().performance() {
                let _ = performance.mark(&painted);
            }
        })
        .forget();
    });
    let _ = gloo::utils::window().request_animation_frame(callback.unchecked_ref());
}

/// Saves an exported file: its bytes (base64 from the host) into a Blob, downloaded through an
/// object URL under the host's file name.
pub fn download(file: &crate::browse::ExportFile) -> Result<(), String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD.decode(&file.base64).map_err(|e| e.to_string())?;
    let array = js_sys::Uint8Array::from(bytes.as_slice());
    let parts = js_sys::Array::of1(&array);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(&file.mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(|e| format!("{e:?}"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))?;
    let anchor = el("a").attr("href", &url).attr("download", &file.file_name);
    anchor.set_hidden(true);
    if let Some(body) = document().body() {
        let _ = body.append_child(&anchor.0);
    }
    if let Some(a) = anchor.0.dyn_ref::<HtmlElement>() {
        a.click();
    }
    anchor.0.remove();
    // Revoked later: the download reads the blob after the click returns.
    gloo::timers::callback::Timeout::new(60_000, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
    Ok(())
}
